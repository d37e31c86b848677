"""Which TLS versions a server accepts, and whether its certificate verifies."""

from __future__ import annotations

import socket
import ssl
import warnings

from cloudscan.providers.dicomweb.http import ProbeError

VERSIONS = (
    ("TLSv1", ssl.TLSVersion.TLSv1),
    ("TLSv1.1", ssl.TLSVersion.TLSv1_1),
    ("TLSv1.2", ssl.TLSVersion.TLSv1_2),
    ("TLSv1.3", ssl.TLSVersion.TLSv1_3),
)


def accepted_versions(host: str, port: int, timeout: float) -> list[str]:
    """One handshake per version, pinned. OpenSSL 3 refuses TLS 1.0/1.1 at its default security
    level, so the probe lowers it: the question is what the server accepts, not what we like."""
    accepted = []
    for name, version in VERSIONS:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            with warnings.catch_warnings():  # old versions are deprecated: asking about them is the point
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ctx.maximum_version = version
            if version < ssl.TLSVersion.TLSv1_2:
                ctx.set_ciphers("ALL:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            continue  # this Python's OpenSSL cannot speak it at all
        if _handshake(ctx, host, port, timeout) is None:
            accepted.append(name)
    return accepted


def certificate_check(host: str, port: int, timeout: float, ca_file: str | None = None) -> dict[str, object]:
    """Does the chain verify, for this host name, against the system's CAs (and `ca_file`)?"""
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    problem = _handshake(ctx, host, port, timeout)
    return {"valid": problem is None, "problem": problem}


def _handshake(ctx: ssl.SSLContext, host: str, port: int, timeout: float) -> str | None:
    """None when the handshake completes, else why it failed. A server that cannot be reached
    at all raises ProbeError: that is not an answer about TLS."""
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=host),
        ):
            return None
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message or exc.reason or "certificate does not verify")
    except ssl.SSLError as exc:
        return str(exc.reason or exc)
    except ConnectionResetError:
        return "connection reset during the handshake"
    except TimeoutError:
        raise ProbeError("Timeout", f"TLS handshake with {host}:{port} timed out") from None
    except OSError as exc:
        raise ProbeError(
            type(exc).__name__, f"cannot connect to {host}:{port}: {exc.strerror or exc}"
        ) from None
