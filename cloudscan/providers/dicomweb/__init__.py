"""DICOMweb and DIMSE endpoints: where the targets come from, and probing them concurrently.

Targets are DICOMweb base URLs (http(s)://host:port/dicom-web) and DIMSE addresses
(dicom://host:port[/AET]), given on the command line, in a file, or found in a cloudscan JSON
report whose network.ingress resources open DICOM or PACS web ports to the internet.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cloudscan.inputs import InputError, read_text
from cloudscan.model import Document
from cloudscan.ports import DICOMWEB_BASES, DIMSE_PORTS
from cloudscan.providers.dicomweb.probe import ProbeOptions, probe_endpoint
from cloudscan.providers.dimse import DimseOptions, DimseTarget, probe_dimse
from cloudscan.providers.endpoints import unreadable_dicomweb, unreadable_dimse


class TargetError(ValueError):
    """A target list that cannot be used: names the file and line."""


# A URL longer than this is no DICOMweb base; a list longer than this is no list of PACS.
MAX_TARGET_CHARS = 2048
MAX_TARGETS = 10_000
MAX_LIST_BYTES = 5 * 1024 * 1024  # a target file or an inventory report
MAX_INVENTORY_BYTES = 512 * 1024 * 1024


@dataclass
class Targets:
    urls: list[str] = field(default_factory=list)
    dimse: list[DimseTarget] = field(default_factory=list)

    def add(self, text: str, where: str) -> None:
        text = text.strip()
        if len(text) > MAX_TARGET_CHARS:
            raise TargetError(f"{where}: a target of {len(text)} characters (at most {MAX_TARGET_CHARS})")
        if not text.isprintable():
            raise TargetError(f"{where}: {_shown(text)} holds control characters (a NUL, a tab, a newline)")
        if len(self) >= MAX_TARGETS:
            raise TargetError(f"{where}: more than {MAX_TARGETS} targets")
        if text.startswith(("dicom://", "dimse://")):
            try:
                target = DimseTarget.parse(text)
            except ValueError as exc:
                raise TargetError(f"{where}: {exc}") from None
            if target not in self.dimse:
                self.dimse.append(target)
            return
        try:
            parts = urlsplit(text)
            parts.hostname  # noqa: B018
        except ValueError as exc:  # http://[::1/x, http://[zz]:80/
            raise TargetError(f"{where}: {_shown(text)} is not a valid URL ({exc})") from None
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise TargetError(f"{where}: {_shown(text)} has an invalid port") from None
        if parts.username is not None or parts.password is not None:
            # Never echoed: the value may hold a password. cloudscan probes without a login.
            raise TargetError(
                f"{where}: a URL with a user name or password: give the URL without them "
                "(cloudscan probes without a login; --probe-credentials tries default ones)"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetError(
                f"{where}: {_shown(text)} is neither an http(s):// DICOMweb URL nor dicom://HOST:PORT"
            )
        if parts.query or parts.fragment:
            raise TargetError(
                f"{where}: give the DICOMweb base URL without ?query or #fragment (they can carry tokens)"
            )
        if not text.isascii() or any(c.isspace() for c in text.strip()):
            raise TargetError(f"{where}: {_shown(text)} is not a valid URL (spaces or non-ASCII characters)")
        # Scheme and host are case-insensitive: one endpoint, one id, one fingerprint.
        url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", "")).rstrip("/")
        if url not in self.urls:
            self.urls.append(url)

    def __len__(self) -> int:
        return len(self.urls) + len(self.dimse)


def _shown(text: str) -> str:
    """A target as it may be echoed: whatever precedes an @ (a user name, a password) is hidden."""
    return repr(text.rsplit("@", 1)[1] if "@" in text else text)[:200]


def read_target_file(path: Path, targets: Targets) -> None:
    """One target per line; blank lines and # comments are ignored."""
    try:
        lines = read_text(path, MAX_LIST_BYTES).splitlines()
    except InputError as exc:
        raise TargetError(f"{path}: {exc}") from None
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if line:
            targets.add(line, f"{path}:{number}")


def read_inventory(path: Path, targets: Targets) -> list[str]:
    """Targets from a cloudscan JSON report: every public address of a network.ingress rule open
    to the internet, on each DICOM or PACS web port the rule covers. Returns notes on rules
    that open such ports but name no address (not attached, or read from Terraform)."""
    try:
        report = json.loads(read_text(path, MAX_INVENTORY_BYTES))
    except InputError as exc:
        raise TargetError(f"{path}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise TargetError(f"{path}: not a cloudscan JSON report: not valid JSON ({str(exc)[:100]})") from None
    resources = report.get("resources") if isinstance(report, dict) else None
    if not isinstance(resources, list):
        raise TargetError(
            f"{path}: not a cloudscan JSON report (cloudscan scan aws --format json): no list of resources"
        )
    notes = []
    for resource in resources:
        if not isinstance(resource, dict) or resource.get("kind") != "network.ingress":
            continue
        rule, exposure = resource.get("rule"), resource.get("exposure")
        if not isinstance(rule, dict) or not isinstance(exposure, dict):
            continue
        if exposure.get("internet") is not True or rule.get("protocol") not in ("tcp", "all"):
            continue
        low, high = rule.get("from_port"), rule.get("to_port")
        low = low if type(low) is int else 0  # a range Terraform left unresolved: any port
        high = high if type(high) is int else 65535
        dimse_ports = [p for p in DIMSE_PORTS if low <= p <= high]
        web_ports = [p for p in DICOMWEB_BASES if low <= p <= high]
        if not dimse_ports and not web_ports:
            continue
        addresses = resource.get("addresses")
        if addresses is not None and not isinstance(addresses, list):
            raise TargetError(f"{path}: {_shown(str(resource.get('id')))}: addresses is not a list")
        if addresses is None:
            notes.append(
                f"{resource.get('id')}: opens ports {low}-{high}; which addresses use it is unknown "
                "(a Terraform resource, or DescribeNetworkInterfaces failed)"
            )
            continue
        # A rule for ::/0 opens the IPv6 addresses, one for 0.0.0.0/0 the IPv4 ones.
        ipv6_rule = ":" in str(rule.get("source") or "")
        reachable = [a for a in addresses if _is_address(a) and (":" in a) == ipv6_rule]
        if not reachable:
            notes.append(
                f"{resource.get('id')}: opens ports {low}-{high} but no public "
                f"{'IPv6' if ipv6_rule else 'IPv4'} address uses it"
            )
        for host in reachable:
            shown = f"[{host}]" if ":" in host else host
            for port in dimse_ports:
                targets.add(f"dicom://{shown}:{port}", str(path))
            for port in web_ports:
                targets.add(DICOMWEB_BASES[port].format(host=shown), str(path))
    return notes


def _is_address(value: Any) -> bool:
    """An IP address: what a report holds in `addresses`, never a host name or a URL part
    (nor a number, which ipaddress would read as one)."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def enumerate_endpoints(
    targets: Targets, probe: ProbeOptions, dimse: DimseOptions, *, concurrency: int = 32, per_host: int = 2
) -> Iterator[Document]:
    """Probe every target, at most `concurrency` at once and `per_host` at once on one host,
    and yield the documents in target order as they complete."""
    limits: dict[str, threading.Semaphore] = {}
    lock = threading.Lock()
    stopping = threading.Event()

    def limited(host: str, work: Any, *args: Any) -> Document | None:
        with lock:
            gate = limits.setdefault(host, threading.Semaphore(per_host))
        with gate:
            # Jobs queued behind a busy host's gate are past cancel_futures' reach: they check here.
            return None if stopping.is_set() else work(*args)

    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        jobs = [
            (url, pool.submit(limited, urlsplit(url).hostname or url, probe_endpoint, url, probe))
            for url in targets.urls
        ]
        jobs += [(t.id, pool.submit(limited, t.host, probe_dimse, t, dimse)) for t in targets.dimse]
        for target, job in jobs:
            try:
                # None only for a job that ran after the scan was abandoned: never read here.
                if (doc := job.result()) is not None:
                    yield doc
            except Exception as exc:  # a probe's bug: this endpoint is an error, the others go on
                yield _broken(target, exc)
    finally:  # on Ctrl-C (or an abandoned scan) queued probes are dropped, not waited for
        stopping.set()
        pool.shutdown(wait=False, cancel_futures=True)


def _broken(target: str, exc: Exception) -> Document:
    failure = {"call": "cloudscan:probe", "code": type(exc).__name__, "message": str(exc)[:300]}
    live = {"type": "live"}
    if target.startswith("dicom://"):
        host, _, port = target.removeprefix("dicom://").rpartition(":")
        address = {"host": host, "port": int(port), "called_ae": None}
        return unreadable_dimse(target, "dimse", target, live, address, **failure)
    return unreadable_dicomweb(target, "dicomweb", urlsplit(target).netloc, live, target, **failure)
