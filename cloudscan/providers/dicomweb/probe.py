"""Probe one DICOMweb base URL without credentials and without fetching patient data.

Every request asks about a study UID that cannot exist, so an open server answers with an
empty result (QIDO), a 404 (WADO) or a media-type error (STOW, whose body is `{}`: nothing
can be stored). What was seen is recorded per field in `access.observed` as the request and
its status, never a body. Status codes are read as Orthanc and the DICOMweb standard use
them (../shared/notes/dicom.md, section 1.5).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cloudscan.model import Document, mark_unknown, new_resource
from cloudscan.providers.dicomweb import tls
from cloudscan.providers.dicomweb.http import Answer, ProbeError, fetch

# 2.25 is the root for UUID-derived UIDs; this one was made up and names no study.
PROBE_UID = "2.25.227286573417939467516108513411290104577"
PROBE_ORIGIN = "https://cloudscan.invalid"
DICOM_JSON = "application/dicom+json"
DENIED = (401, 403, 407)
UI_PATHS = (("/app/explorer.html", "orthanc"), ("/ui/app/", "orthanc"), ("/dcm4chee-arc/ui2/", "dcm4chee"))
# Documented factory logins, tried only with --probe-credentials, against a URL without PHI.
DEFAULT_LOGINS = {"orthanc": [("orthanc", "orthanc")], None: [("orthanc", "orthanc"), ("admin", "admin")]}


@dataclass(frozen=True)
class ProbeOptions:
    timeout: float = 5.0
    probe_stow: bool = True
    probe_credentials: bool = False
    check_tls: bool = True
    ca_file: str | None = None  # a private CA to trust besides the system's (an internal PKI)


class _Unclear(Exception):
    """An answer that says neither open nor protected (a 5xx, a redirect to elsewhere...)."""


def probe_endpoint(url: str, options: ProbeOptions, fetcher: Callable[..., Answer] = fetch) -> Document:
    base = url.rstrip("/")
    parts = urlsplit(base)
    doc = new_resource("dicomweb.endpoint", "dicomweb", base, name=parts.netloc, source={"type": "live"})
    doc["url"] = base
    Prober(doc, options, fetcher).run()
    return doc


class Prober:
    def __init__(self, doc: Document, options: ProbeOptions, fetcher: Callable[..., Answer]) -> None:
        self.doc, self.options, self.fetcher = doc, options, fetcher
        parts = urlsplit(doc["url"])
        self.scheme, self.host, self.port = parts.scheme, parts.hostname or "", parts.port
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path
        self.access: dict[str, Any] = {
            k: None
            for k in (
                "search",
                "retrieve",
                "store",
                "rest_api",
                "admin_ui",
                "authentication",
                "default_credentials",
            )
        }
        self.access["observed"] = {}
        self.product: dict[str, Any] = {"name": None, "version": None, "version_disclosed": False}
        self.realm: str | None = None
        self.request = ""  # the request in flight, named in errors

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
        url = (self.origin if absolute else self.origin + self.base_path) + path
        sent = dict(headers or {})
        if login:
            sent["Authorization"] = "Basic " + base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
        shown = ("" if absolute else self.base_path) + path.replace(PROBE_UID, "<made-up UID>")
        self.request = f"{method} {shown}" + (f" as {login[0]}" if login else "")
        answer = self.fetcher(url, method, headers=sent, body=body, timeout=self.options.timeout)
        self.access["observed"][field] = f"{self.request} -> {_describe(answer)}"
        if answer.status in DENIED:
            self._note_challenge(answer)
        return answer

    def _note_challenge(self, answer: Answer) -> None:
        challenge = answer.header("www-authenticate") or ""
        scheme = challenge.split(" ", 1)[0].lower()
        if self.access["authentication"] in (None, "none"):
            self.access["authentication"] = (
                scheme if scheme in ("basic", "bearer") else ("other" if scheme else None)
            )
        if 'realm="' in challenge:
            self.realm = challenge.split('realm="', 1)[1].split('"', 1)[0]
            if "orthanc" in self.realm.lower():
                self.product["name"] = "orthanc"

    # -- the probes -------------------------------------------------------------------------

    def run(self) -> None:
        doc = self.doc
        try:
            qido = self._ask(
                "search",
                "GET",
                f"/studies?StudyInstanceUID={PROBE_UID}",
                headers={"Accept": DICOM_JSON, "Origin": PROBE_ORIGIN},
            )
        except ProbeError as exc:
            # Nothing answered: every field is unknown, and the endpoint is an error, not a pass.
            doc["transport"] = {
                "scheme": self.scheme,
                "redirects_to_https": None,
                "tls_versions": None,
                "certificate": None,
            }
            mark_unknown(
                doc,
                ["/access", "/cors", "/product", "/transport"],
                call=self.request,
                code=exc.code,
                message=str(exc),
            )
            doc["hardening"] = {"lua_scripts": None, "rest_api_writes_filesystem": None}
            return
        doc["cors"] = _cors(qido)
        redirect_https = _redirects_to_https(qido)
        for field, step in (
            ("search", lambda: self._search(qido)),
            ("retrieve", self._retrieve),
            ("store", self._store),
            ("rest_api", self._rest_api),
            ("admin_ui", self._admin_ui),
        ):
            self._settle(field, step)
        if self.access["authentication"] is None and "open" in (
            self.access["search"],
            self.access["rest_api"],
        ):
            self.access["authentication"] = "none"
        self._settle("default_credentials", self._default_credentials)
        doc["access"] = self.access
        doc["product"] = self.product
        doc["transport"] = {
            "scheme": self.scheme,
            "redirects_to_https": redirect_https if self.scheme == "http" else None,
            "tls_versions": None,
            "certificate": None,
        }
        if self.scheme == "https" and self.options.check_tls:
            self._tls()
        doc["hardening"] = {"lua_scripts": None, "rest_api_writes_filesystem": None}
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
            mark_unknown(self.doc, [f"/access/{field}"], call=self.request, code=exc.code, message=str(exc))
            self.access[field] = None
        except _Unclear as exc:
            mark_unknown(
                self.doc, [f"/access/{field}"], call=self.request, code="UnclearAnswer", message=str(exc)
            )
            self.access[field] = None

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
        if qido.status == 200 or qido.status == 404:
            return "absent"  # a web page or nothing: not a DICOMweb search here
        return self._redirect_or_unclear(qido, "search")

    def _retrieve(self) -> str:
        answer = self._ask(
            "retrieve", "GET", f"/studies/{PROBE_UID}/metadata", headers={"Accept": DICOM_JSON}
        )
        if answer.status in DENIED:
            return "protected"
        if answer.status == 404:
            # The study is unknown, so a reachable handler says 404 too: open when the same server
            # searched without a login (or is known to be a DICOMweb server), else not here at all.
            return "open" if self.access["search"] == "open" else "absent"
        if answer.status in (200, 204):
            return "open" if _json_list(answer) is not None or answer.status == 204 else "absent"
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
        answer = self._ask(
            "rest_api", "GET", "/system", absolute=True, headers={"Accept": "application/json"}
        )
        if answer.status in DENIED:
            return "protected"
        if answer.status == 200:
            system = _json_object(answer)
            if system is not None and ("ApiVersion" in system or "DicomAet" in system):
                self.product["name"] = "orthanc"
                if isinstance(system.get("Version"), str):
                    self.product["version"] = system["Version"][:40]
                    self.product["version_disclosed"] = True
                return "open"
            return "absent"
        if answer.status == 404:
            return "absent"
        return self._redirect_or_unclear(answer, "rest_api")

    def _admin_ui(self) -> str:
        for path, product in UI_PATHS:
            answer = self._ask("admin_ui", "GET", path, absolute=True, headers={"Accept": "text/html"})
            if answer.status in DENIED:
                return "protected"
            if answer.status == 200 and answer.media_type == "text/html":
                self.product["name"] = self.product["name"] or product
                return "open"
            if 300 <= answer.status < 400:
                return "protected"  # sent to a login page (or elsewhere): no UI served here
        return "absent"

    def _redirect_or_unclear(self, answer: Answer, field: str) -> str:
        observed = self.access["observed"][field]
        if 300 <= answer.status < 400:
            target = urlsplit(answer.header("location") or "")
            if self.scheme == "http" and target.scheme == "https" and target.hostname in (None, self.host):
                raise _Unclear(f"{observed}: plain HTTP is redirected to HTTPS; scan the https:// URL")
            return "protected"  # sent to a login page: nothing served here without credentials
        raise _Unclear(f"{observed}: neither an answer nor a login request")

    def _default_credentials(self) -> str:
        if not self.options.probe_credentials:
            self.access["observed"]["default_credentials"] = "not probed (--probe-credentials)"
            return "not-checked"
        if self.access["authentication"] != "basic":
            self.access["observed"]["default_credentials"] = (
                f"not probed: the server asks for {self.access['authentication'] or 'no known'} login, "
                "not Basic"
                if self.access["authentication"] != "none"
                else "not probed: the server asks for no login"
            )
            return "not-checked"
        if self.access["rest_api"] == "protected" and self.product["name"] == "orthanc":
            path, absolute = "/system", True
        else:
            path, absolute = f"/studies?StudyInstanceUID={PROBE_UID}", False
        for login in DEFAULT_LOGINS.get(self.product["name"], DEFAULT_LOGINS[None]):
            answer = self._ask(
                "default_credentials",
                "GET",
                path,
                absolute=absolute,
                login=login,
                headers={"Accept": "application/json"},
            )
            if answer.status not in DENIED and answer.status < 500:
                return "accepted"
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
        except ProbeError as exc:
            mark_unknown(
                self.doc,
                ["/transport/tls_versions", "/transport/certificate"],
                call=f"TLS handshake {self.host}",
                code=exc.code,
                message=str(exc),
            )


def _describe(answer: Answer) -> str:
    text = str(answer.status)
    if answer.media_type:
        text += f" {answer.media_type}"
    items = _json_list(answer)
    if items is not None:
        text += " (empty result)" if not items else f" ({len(items)} results, not read)"
    location = answer.header("location")
    if location and 300 <= answer.status < 400:
        text += f" to {location[:120]}"
    return text


def _json_list(answer: Answer) -> list[Any] | None:
    if answer.status == 204 or (answer.status == 200 and not answer.body.strip()):
        return []
    value = _json(answer)
    return value if isinstance(value, list) else None


def _json_object(answer: Answer) -> dict[str, Any] | None:
    value = _json(answer)
    return value if isinstance(value, dict) else None


def _json(answer: Answer) -> Any:
    if answer.truncated or "json" not in answer.media_type:
        return None
    try:
        return json.loads(answer.body)
    except ValueError:
        return None


def _cors(answer: Answer) -> dict[str, bool]:
    allowed = (answer.header("access-control-allow-origin") or "").strip()
    return {
        "allow_any_origin": allowed == "*",
        "reflects_origin": allowed == PROBE_ORIGIN,
        "allow_credentials": (answer.header("access-control-allow-credentials") or "").strip().lower()
        == "true",
    }


def _redirects_to_https(answer: Answer) -> bool:
    return 300 <= answer.status < 400 and (answer.header("location") or "").lower().startswith("https://")
