"""What the endpoint sources share: the made-up study UID every probe asks about, the
documented default logins, and the document of an endpoint nothing could be read of."""

from __future__ import annotations

from typing import Any

from cloudscan.model import Document, mark_unknown, new_resource

# 2.25 is the root for UUID-derived UIDs; this one was made up and names no study.
MADE_UP_STUDY_UID = "2.25.227286573417939467516108513411290104577"

# Documented factory logins per product (None: a server that does not say what it is).
DEFAULT_LOGINS: dict[str | None, list[tuple[str, str]]] = {
    "orthanc": [("orthanc", "orthanc")],
    None: [("orthanc", "orthanc"), ("admin", "admin")],
}


def unreadable_dicomweb(
    resource_id: str,
    provider: str,
    name: str,
    source: dict[str, Any],
    url: str,
    *,
    call: str,
    code: str,
    message: str,
) -> Document:
    """A dicomweb.endpoint whose every field is unknown because of one failure."""
    doc = new_resource("dicomweb.endpoint", provider, resource_id, name=name, source=source)
    doc["url"] = url
    mark_unknown(
        doc,
        ["/product", "/access", "/transport", "/cors", "/hardening"],
        call=call,
        code=code,
        message=message,
    )
    return doc


def unreadable_dimse(
    resource_id: str,
    provider: str,
    name: str,
    source: dict[str, Any],
    address: dict[str, Any],
    *,
    call: str,
    code: str,
    message: str,
) -> Document:
    """A dimse.endpoint whose every field is unknown because of one failure."""
    doc = new_resource("dimse.endpoint", provider, resource_id, name=name, source=source)
    doc["address"] = address
    mark_unknown(doc, ["/unknown_ae", "/implementation"], call=call, code=code, message=message)
    return doc
