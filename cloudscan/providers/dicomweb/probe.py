"""Probe one DICOMweb base URL without credentials and without fetching patient data.

Every request asks about a study UID that cannot exist, so an open server answers with an
empty result (QIDO), a 404 (WADO) or a media-type error (STOW, whose body is `{}`: nothing
can be stored). What was seen is recorded per field in `access.observed` as the request and
its status, never a body. Status codes are read as Orthanc and the DICOMweb standard use
them (../shared/notes/dicom.md, section 1.5).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from cloudscan.model import Document, mark_unknown, new_resource
from cloudscan.providers.dicomweb import tls
from cloudscan.providers.dicomweb.http import Answer, ProbeError, fetch
from cloudscan.providers.endpoints import DEFAULT_LOGINS, unreadable_dicomweb
from cloudscan.providers.endpoints import MADE_UP_STUDY_UID as PROBE_UID

PROBE_ORIGIN = "https://cloudscan.invalid"
DICOM_JSON = "application/dicom+json"
DENIED = (401, 403, 407)
# Where a redirect sends a client that must log in first (Keycloak, SAML, CAS, OAuth, ...).
LOGIN_PATH = re.compile(
    r"(?<![a-z])(log-?in|log-?on|sign-?in|auth\w*|sso|saml2?|oauth2?|openid\w*|realms|cas|idp)"
    r"(?![a-z])",
    re.IGNORECASE,
)
# (path, product, a word its page carries): a web page that is not the product's UI is not it.
UI_PATHS = (
    ("/app/explorer.html", "orthanc", b"orthanc"),
    ("/ui/app/", "orthanc", b"orthanc"),
    ("/dcm4chee-arc/ui2/", "dcm4chee", b"dcm4chee"),
)


@dataclass(frozen=True)
class ProbeOptions:
    timeout: float = 5.0
    probe_stow: bool = True
    probe_credentials: bool = False
    check_tls: bool = True
    ca_file: str | None = None  # a private CA to trust besides the system's (an internal PKI)


class _Unreachable(Exception):
    """The first request got no HTTP answer at all."""

    def __init__(self, request: str, error: ProbeError) -> None:
        super().__init__(request)
        self.request, self.error = request, error


class _Unclear(Exception):
    """An answer that says neither open nor protected: a 5xx, a 400 to a search, a redirect
    that is not to a login page. The field is then UNKNOWN, with the request named."""


def probe_endpoint(url: str, options: ProbeOptions, fetcher: Callable[..., Answer] = fetch) -> Document:
    base = url.rstrip("/")
    parts = urlsplit(base)
    doc = new_resource("dicomweb.endpoint", "dicomweb", base, name=parts.netloc, source={"type": "live"})
    doc["url"] = base
    try:
        Prober(doc, options, fetcher).run()
    except _Unreachable as nothing:
        # Nothing answered: every field is unknown, and the endpoint is an error, not a pass.
        return unreadable_dicomweb(
            base,
            "dicomweb",
            parts.netloc,
            {"type": "live"},
            base,
            call=nothing.request,
            code=nothing.error.code,
            message=str(nothing.error),
        )
    return doc


class Prober:
    def __init__(self, doc: Document, options: ProbeOptions, fetcher: Callable[..., Answer]) -> None:
        self.doc, self.options, self.fetcher = doc, options, fetcher
        parts = urlsplit(doc["url"])
        self.scheme, self.host, self.port = parts.scheme, parts.hostname or "", parts.port
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path
        # The product's own API and UI live at the server root, or under the prefix a reverse
        # proxy gives it (/orthanc/dicom-web -> /orthanc/system): try both.
        parent = self.base_path.rsplit("/", 1)[0]
        self.roots = list(dict.fromkeys([parent, ""]))
        fields = (
            "search",
            "retrieve",
            "store",
            "rest_api",
            "admin_ui",
            "authentication",
            "default_credentials",
        )
        self.access: dict[str, Any] = dict.fromkeys(fields)
        self.access["observed"] = {}
        self.product: dict[str, Any] = {"name": None, "version": None, "version_disclosed": False}
        self.schemes: set[str] = set()  # login schemes the server asked for
        self.request = ""  # the request in flight, named in errors
        self.login_root: str | None = None  # where /system asked for a login

    # -- one request ---------------------------------------------------------------------

    def _ask(
        self,
        field: str,
        method: str,
        path: str,
        *,
        absolute: bool = False,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        login: tuple[str, str] | None = None,
    ) -> Answer:
        full = path if absolute else self.base_path + path
        sent = dict(headers or {})
        if login:
            sent["Authorization"] = "Basic " + base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
        self.request = f"{method} {full.replace(PROBE_UID, '<made-up UID>')}" + (
            f" as {login[0]}" if login else ""
        )
        answer = self.fetcher(
            self.origin + full, method, headers=sent, body=body, timeout=self.options.timeout
        )
        self.access["observed"][field] = f"{self.request} -> {_describe(answer)}"
        if answer.status in DENIED and not login:
            self._note_challenge(answer)
        return answer

    def _note_challenge(self, answer: Answer) -> None:
        challenge = (answer.header("www-authenticate") or "").lower()
        for scheme in ("basic", "bearer", "negotiate", "digest"):
            if re.search(rf"(^|,)\s*{scheme}\b", challenge):
                self.schemes.add(scheme)
        if challenge and not self.schemes:
            self.schemes.add("other")
        if "orthanc" in challenge:  # realm="Orthanc Secure Area", even when everything is locked
            self.product["name"] = "orthanc"

    # -- the probes -------------------------------------------------------------------------

    def run(self) -> None:
        doc = self.doc
        doc["hardening"] = {"lua_scripts": None, "rest_api_writes_filesystem": None}
        try:
            qido = self._ask(
                "search",
                "GET",
                f"/studies?StudyInstanceUID={PROBE_UID}",
                headers={"Accept": DICOM_JSON, "Origin": PROBE_ORIGIN},
            )
        except ProbeError as exc:
            raise _Unreachable(self.request, exc) from None
        for field, step in (
            ("search", lambda: self._search(qido)),
            ("retrieve", self._retrieve),
            ("store", self._store),
            ("rest_api", self._rest_api),
            ("admin_ui", self._admin_ui),
        ):
            self._settle(field, step)
        self._cors(qido)
        if self.schemes:
            self.access["authentication"] = (
                next(s for s in ("basic", "bearer") if s in self.schemes)
                if self.schemes & {"basic", "bearer"}
                else "other"
            )
        elif "open" in (self.access["search"], self.access["rest_api"]):
            self.access["authentication"] = "none"
        self._settle("default_credentials", self._default_credentials)
        doc["access"] = self.access
        doc["product"] = self.product
        doc["transport"] = {
            "scheme": self.scheme,
            "redirects_to_https": _redirects_to_https(qido, self.host) if self.scheme == "http" else None,
            "tls_versions": None,
            "certificate": None,
        }
        if self.scheme == "https" and self.options.check_tls:
            self._tls()
        if self.access["authentication"] is None:
            mark_unknown(
                doc,
                ["/access/authentication"],
                call="dicomweb:authentication",
                code="NotSeen",
                message="no answer told whether a login is needed",
            )

    def _settle(self, field: str, step: Callable[[], str | None]) -> None:
        try:
            self.access[field] = step()
        except ProbeError as exc:
            self.access[field] = None
            mark_unknown(self.doc, [f"/access/{field}"], call=self.request, code=exc.code, message=str(exc))
        except _Unclear as exc:
            self.access[field] = None
            mark_unknown(
                self.doc, [f"/access/{field}"], call=self.request, code="UnclearAnswer", message=str(exc)
            )

    def _search(self, qido: Answer) -> str:
        if qido.status == 406:  # some servers only speak application/json
            qido = self._ask(
                "search",
                "GET",
                f"/studies?StudyInstanceUID={PROBE_UID}",
                headers={"Accept": "application/json"},
            )
        if qido.status in DENIED:
            return "protected"
        if qido.status == 204 or (qido.status == 200 and _json_list(qido) is not None):
            return "open"
        if qido.status == 200 and qido.truncated and _is_json(qido):
            return "open"  # more than 64 KiB of results for a UID that matches nothing: open, and leaking
        if qido.status == 404 or (qido.status == 200 and qido.media_type == "text/html"):
            return "absent"  # nothing, or a web page: no DICOMweb search at this URL
        return self._redirect_or_unclear(qido, "search")

    def _retrieve(self) -> str:
        answer = self._ask(
            "retrieve", "GET", f"/studies/{PROBE_UID}/metadata", headers={"Accept": DICOM_JSON}
        )
        if answer.status in DENIED:
            return "protected"
        if answer.status == 404:
            # The study does not exist, so a reachable handler says 404 too: open on a server that
            # searched without a login, nothing here where nothing searched either.
            if self.access["search"] in ("open", "absent"):
                return self.access["search"]
            raise _Unclear(
                f"{self.access['observed']['retrieve']}: a 404 where the search answered "
                f"{self.access['search'] or 'unclearly'}: the retrieve handler may be open"
            )
        if answer.status in (200, 204) and (answer.status == 204 or _is_json(answer)):
            return "open"
        return self._redirect_or_unclear(answer, "retrieve")

    def _store(self) -> str | None:
        if not self.options.probe_stow:
            mark_unknown(
                self.doc,
                ["/access/store"],
                call=f"POST {self.base_path}/studies",
                code="NotProbed",
                message="the STOW-RS probe was turned off (--no-stow-probe)",
            )
            return None
        if self.access["search"] == "absent" and self.access["retrieve"] == "absent":
            # Never POST to something that is not a DICOMweb server; a store-only endpoint here
            # stays unknown rather than passing.
            raise _Unclear(
                "POST not sent: nothing at this URL answered like DICOMweb (search and retrieve absent)"
            )
        answer = self._ask(
            "store",
            "POST",
            "/studies",
            headers={"Content-Type": "application/json", "Accept": DICOM_JSON},
            body=b"{}",
        )
        if answer.status in DENIED:
            return "protected"
        if answer.status in (400, 409, 415, 200, 202):
            return "open"  # the STOW handler read our request without asking for a login
        if answer.status in (404, 405, 501):
            return "absent"
        return self._redirect_or_unclear(answer, "store")

    def _rest_api(self) -> str:
        states = []
        for root in self.roots:
            answer = self._ask(
                "rest_api", "GET", f"{root}/system", absolute=True, headers={"Accept": "application/json"}
            )
            system = _json_object(answer) if answer.status == 200 else None
            if system is not None and ("ApiVersion" in system or "DicomAet" in system):
                self.product["name"] = "orthanc"
                if isinstance(system.get("Version"), str):
                    self.product["version"] = version_shown(system["Version"])
                    self.product["version_disclosed"] = True
                return "open"
            if answer.status in DENIED:
                states.append("protected")
                self.login_root = root if self.login_root is None else self.login_root
            elif answer.status in (200, 404):
                states.append("absent")  # no such API, or a page that is not it
            else:
                states.append(self._redirect_or_unclear(answer, "rest_api"))
        return "protected" if "protected" in states else "absent"

    def _admin_ui(self) -> str:
        states = []
        for root in self.roots:
            for path, product, marker in UI_PATHS:
                answer = self._ask(
                    "admin_ui", "GET", root + path, absolute=True, headers={"Accept": "text/html"}
                )
                if answer.status == 200 and answer.media_type == "text/html":
                    if marker not in answer.body.lower():
                        states.append("absent")  # some other web page (a viewer, a catch-all)
                        continue
                    self.product["name"] = self.product["name"] or product
                    return "open"
                if answer.status in DENIED:
                    states.append("protected")
                elif answer.status != 404:
                    states.append(self._redirect_or_unclear(answer, "admin_ui"))
        return "protected" if "protected" in states else "absent"

    def _redirect_or_unclear(self, answer: Answer, field: str) -> str:
        observed = self.access["observed"][field]
        if 300 <= answer.status < 400:
            target = _split(answer.header("location") or "")
            asked = urlsplit(self.request.split(" ", 2)[1] if " " in self.request else "").path
            if self.scheme == "http" and target.scheme == "https" and target.hostname in (None, self.host):
                raise _Unclear(f"{observed}: plain HTTP is redirected to HTTPS; scan the https:// URL")
            # Only what the redirect adds to the path counts: /imaging-associates/ is not "sso".
            added, same = (target.path or "").split("/"), asked.split("/")
            while added and same and added[0] == same[0]:
                added, same = added[1:], same[1:]
            if LOGIN_PATH.search("/".join(added)) or LOGIN_PATH.search(target.query or ""):
                return "protected"  # sent to a login page: nothing served here without credentials
            raise _Unclear(f"{observed}: redirected elsewhere (not to a login page); scan where it points")
        raise _Unclear(f"{observed}: neither an answer nor a login request")

    def _cors(self, qido: Answer) -> None:
        """CORS as a browser on another site would meet it. Proxies often add the headers to
        successful answers only, so when the search was refused the preflight is asked too; when
        neither succeeded, what a logged-in browser gets is not visible and stays unknown."""
        answers = [qido]
        if not 200 <= qido.status < 300:
            with contextlib.suppress(ProbeError):
                answers.append(
                    self.fetcher(
                        f"{self.origin}{self.base_path}/studies",
                        "OPTIONS",
                        timeout=self.options.timeout,
                        headers={
                            "Origin": PROBE_ORIGIN,
                            "Access-Control-Request-Method": "GET",
                            "Access-Control-Request-Headers": "authorization",
                        },
                    )
                )
        allowed = [(a.header("access-control-allow-origin") or "").strip() for a in answers]
        credentials = any(
            (a.header("access-control-allow-credentials") or "").strip().lower() == "true" for a in answers
        )
        self.doc["cors"] = {
            "allow_any_origin": "*" in allowed,
            "reflects_origin": PROBE_ORIGIN in allowed,
            "allow_credentials": credentials,
        }
        if not any(200 <= a.status < 300 for a in answers) and PROBE_ORIGIN not in allowed:
            mark_unknown(
                self.doc,
                ["/cors/reflects_origin", "/cors/allow_credentials"],
                call=f"OPTIONS {self.base_path}/studies",
                code="NotVisible",
                message="no answer without a login succeeded, so the CORS headers a logged-in "
                "browser gets are not visible",
            )

    def _default_credentials(self) -> str:
        observed = self.access["observed"]
        if not self.options.probe_credentials:
            observed["default_credentials"] = "not probed (--probe-credentials)"
            return "not-checked"
        if self.access["authentication"] != "basic":
            observed["default_credentials"] = (
                "not probed: the server asks for no login"
                if self.access["authentication"] == "none"
                else f"not probed: the server asks for a {self.access['authentication'] or 'unknown'} login"
            )
            return "not-checked"
        if self.login_root is not None and self.product["name"] == "orthanc":
            path, absolute = f"{self.login_root}/system", True  # where Orthanc asked for the login
        else:
            path, absolute = f"/studies?StudyInstanceUID={PROBE_UID}", False
        refused = True
        for login in DEFAULT_LOGINS.get(self.product["name"], DEFAULT_LOGINS[None]):
            answer = self._ask(
                "default_credentials",
                "GET",
                path,
                absolute=absolute,
                login=login,
                headers={"Accept": "application/json"},
            )
            if 200 <= answer.status < 300:
                return "accepted"
            refused = refused and answer.status in DENIED
        if not refused:
            raise _Unclear(f"{observed['default_credentials']}: neither accepted nor refused")
        return "refused"

    def _tls(self) -> None:
        transport = self.doc["transport"]
        try:
            transport["tls_versions"] = tls.accepted_versions(
                self.host, self.port or 443, self.options.timeout
            )
            transport["certificate"] = tls.certificate_check(
                self.host, self.port or 443, self.options.timeout, self.options.ca_file
            )
        except (ProbeError, ssl.SSLError) as exc:
            mark_unknown(
                self.doc,
                ["/transport/tls_versions", "/transport/certificate"],
                call=f"TLS handshake {self.host}",
                code=getattr(exc, "code", type(exc).__name__),
                message=str(exc),
            )


def _describe(answer: Answer) -> str:
    text = str(answer.status)
    if answer.media_type:
        text += f" {_media_type_shown(answer.media_type)}"
    items = _json_list(answer)
    if items is not None:
        text += " (empty result)" if not items else f" ({len(items)} results, not read)"
    elif answer.truncated:
        text += " (over 64 KiB, not read)"
    location = answer.header("location")
    if location and 300 <= answer.status < 400:
        text += f" to {_location_shown(location)}"
    return text


def _printable(text: str) -> str:
    """Server-chosen text shown in a report: printable ASCII only."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)


MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,40}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,60}")
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}")


def _media_type_shown(media_type: str) -> str:
    """A media type as a server names one; anything else (a server can put any text there)
    is not shown."""
    return media_type if MEDIA_TYPE.fullmatch(media_type) else "(a media type that is not one)"


def _location_shown(location: str) -> str:
    """Where a redirect points, as scheme, host and path only: its query and fragment can carry
    a session, a patient name or a record number (…/login?patient=…&mrn=…)."""
    try:
        target = urlsplit(location)
        host = target.hostname or ""
        port = f":{target.port}" if target.port else ""
    except ValueError:
        return "(a Location that is not a URL)"
    shown = urlunsplit((target.scheme, host + port, target.path, "", ""))
    shown = _printable(shown)[:120]
    return shown + (" (query not shown)" if target.query or target.fragment else "")


def version_shown(version: str) -> str | None:
    """A product version as it may appear in a report: a short version-shaped token, or None."""
    match = VERSION.match(version.strip())
    return match.group() if match else None


def _is_json(answer: Answer) -> bool:
    return "json" in answer.media_type


def _json_list(answer: Answer) -> list[Any] | None:
    if answer.status == 204 or (answer.status == 200 and not answer.body.strip() and not answer.truncated):
        return []
    value = _json(answer)
    return value if isinstance(value, list) else None


def _json_object(answer: Answer) -> dict[str, Any] | None:
    value = _json(answer)
    return value if isinstance(value, dict) else None


def _json(answer: Answer) -> Any:
    if answer.truncated or not _is_json(answer):
        return None
    try:
        return json.loads(answer.body)
    except ValueError:
        return None


def _split(location: str) -> SplitResult:
    """A server's Location as parts; one that is no URL (http://[zz) is no redirect target."""
    try:
        parts = urlsplit(location)
        parts.hostname  # noqa: B018 - raises on a malformed host
        parts.port  # noqa: B018
    except ValueError:
        return urlsplit("")
    return parts


def _redirects_to_https(answer: Answer, host: str) -> bool:
    """Plain HTTP sent to HTTPS on the same host (a redirect to another site's login is not)."""
    target = _split(answer.header("location") or "")
    return 300 <= answer.status < 400 and target.scheme == "https" and target.hostname in (None, host)
