"""Who can use a DICOMweb or DIMSE endpoint without credentials, and how its login travels."""

from __future__ import annotations

from typing import Any

from .derived import Derived

STATE_MEANS_OPEN = {"open": True, "protected": False, "absent": False, None: None}


def dicomweb_exposure(doc: dict[str, Any], context: Any) -> Derived:
    access = doc.get("access")
    if access is None:
        fields = (
            "unauthenticated_search",
            "unauthenticated_retrieve",
            "unauthenticated_store",
            "unauthenticated_admin",
            "default_credentials",
            "password_in_clear",
        )
        return Derived(
            {**{f: None for f in fields}, "reasons": {f: [] for f in fields}},
            unknown={f"/exposure/{f}": ["/access"] for f in fields},
        )
    observed = access.get("observed") or {}
    out = _Block(doc)
    for field, services in (
        ("unauthenticated_search", ["search"]),
        ("unauthenticated_retrieve", ["retrieve"]),
        ("unauthenticated_store", ["store"]),
        ("unauthenticated_admin", ["rest_api", "admin_ui"]),
    ):
        inputs = [f"/access/{s}" for s in services]
        values = [STATE_MEANS_OPEN[access.get(s)] for s in services]
        details = [f"{s}: {access.get(s) or 'unknown'} ({observed.get(s, 'not observed')})" for s in services]
        value: bool | None = True if any(values) else (False if all(v is False for v in values) else None)
        out.add(field, value, details, inputs if value is None else [])

    login = access.get("default_credentials")
    if login == "not-checked":
        out.add("default_credentials", None, [observed.get("default_credentials", "not checked")], [])
    else:
        value = {"accepted": True, "refused": False}.get(login)
        out.add(
            "default_credentials",
            value,
            [f"default login {login or 'unknown'} ({observed.get('default_credentials', 'not observed')})"],
            ["/access/default_credentials"] if value is None else [],
        )

    transport = doc.get("transport") or {}
    scheme, scheme_auth = transport.get("scheme"), access.get("authentication")
    # A password (Basic) or a token (Bearer) asked for over plain HTTP travels readable.
    if scheme == "https" or scheme_auth == "none":
        in_clear: bool | None = False
    elif scheme_auth is None:
        in_clear = None
    else:
        in_clear = scheme == "http" and not transport.get("redirects_to_https")
    out.add(
        "password_in_clear",
        in_clear,
        [f"scheme {scheme}, authentication {scheme_auth or 'unknown'}"],
        ["/access/authentication"] if in_clear is None else [],
    )
    return out.derived()


def dimse_exposure(doc: dict[str, Any], context: Any) -> Derived:
    unknown_ae = doc.get("unknown_ae")
    out = _Block(doc)
    observed = (unknown_ae or {}).get("observed") or {}
    for field, source in (
        ("unauthenticated_query", "find"),
        ("unauthenticated_store_possible", "store_context"),
        ("called_ae_unchecked", "any_called_ae"),
        ("unauthenticated_echo", "echo"),
    ):
        value = None if unknown_ae is None else unknown_ae.get(source)
        out.add(
            field,
            value,
            [f"{source}: {observed.get(source, 'not observed')}"],
            [f"/unknown_ae/{source}"] if value is None else [],
        )
    return out.derived()


class _Block:
    """Collects derived fields with their reasons and the inputs that left them unknown."""

    def __init__(self, doc: dict[str, Any]) -> None:
        # What was seen: a probe's answer, or a configuration's setting.
        self.origin = "configuration" if (doc.get("source") or {}).get("type") == "config" else "probe"
        self.block: dict[str, Any] = {"reasons": {}}
        self.unknown: dict[str, list[str]] = {}

    def add(self, field: str, value: bool | None, details: list[str], unknown_from: list[str]) -> None:
        self.block[field] = value
        self.block["reasons"][field] = [
            {"origin": self.origin, "effective": value, "neutralised_by": None, "detail": d} for d in details
        ]
        if unknown_from:
            self.unknown[f"/exposure/{field}"] = unknown_from

    def derived(self) -> Derived:
        return Derived(self.block, unknown=self.unknown)
