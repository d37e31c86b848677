"""Probe a DICOM network service (DIMSE) as an AE title it has never been told of.

Read-only by construction: associations, C-ECHO, and a study-level C-FIND for a UID that
matches nothing. Storage contexts are proposed to see whether they are accepted, and the
association is released: a C-STORE is never sent, so storage is only ever "possible".
Matches of the C-FIND (there should be none) are counted, never read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cloudscan.model import Document, mark_unknown, new_resource

MADE_UP_AE = "CLOUDSCAN-NOAE"  # the called AE title no server is named
PROBE_UID = "2.25.227286573417939467516108513411290104577"
REJECT_REASONS = {
    (1, 3): "calling AE title not recognised",
    (1, 7): "called AE title not recognised",
    (1, 2): "application context not supported",
    (1, 1): "no reason given",
}


@dataclass(frozen=True)
class DimseOptions:
    calling_ae: str = "CLOUDSCAN"
    timeout: float = 5.0


@dataclass(frozen=True)
class DimseTarget:
    host: str
    port: int
    called_ae: str | None = None  # the server's own AE title, when the user knows it

    @classmethod
    def parse(cls, text: str) -> DimseTarget:
        """host:port or host:port/AET (also with a dicom:// prefix)."""
        rest = text.strip().removeprefix("dicom://").removeprefix("dimse://")
        address, _, ae = rest.partition("/")
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
            raise ValueError(f"{text!r}: expected HOST:PORT or HOST:PORT/AET")
        if ae and len(ae) > 16:
            raise ValueError(f"{text!r}: an AE title has at most 16 characters")
        return cls(host.strip("[]"), int(port), ae or None)

    @property
    def id(self) -> str:
        return f"dicom://{self.host}:{self.port}"


class _Refused(Exception):
    def __init__(self, reason: str, calling_ae_refused: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.calling_ae_refused = calling_ae_refused


def probe_dimse(target: DimseTarget, options: DimseOptions) -> Document:
    doc = new_resource(
        "dimse.endpoint", "dimse", target.id, name=f"{target.host}:{target.port}", source={"type": "live"}
    )
    doc["address"] = {"host": target.host, "port": target.port, "called_ae": target.called_ae}
    seen: dict[str, Any] = dict.fromkeys(("associate", "any_called_ae", "echo", "find", "store_context"))
    seen["observed"] = {}
    doc["unknown_ae"] = seen
    _silence_pynetdicom()
    try:
        _probe(doc, target, options, seen)
    except OSError as exc:
        doc["unknown_ae"] = None
        mark_unknown(
            doc,
            ["/unknown_ae", "/implementation"],
            call=f"A-ASSOCIATE {target.id}",
            code=type(exc).__name__,
            message=str(exc) or "no association",
        )
    return doc


class _Unclear(Exception):
    """A DICOM answer that says neither yes nor no (a transient rejection, a timeout...)."""


def _probe(doc: Document, target: DimseTarget, options: DimseOptions, seen: dict[str, Any]) -> None:
    observed = seen["observed"]
    asked = f"{options.calling_ae} -> {MADE_UP_AE}"
    try:
        session = _associate(target, options, MADE_UP_AE)
        seen["any_called_ae"] = True
        observed["any_called_ae"] = f"{asked}: association accepted"
        called = MADE_UP_AE
    except _Refused as refused:
        seen["any_called_ae"] = False
        observed["any_called_ae"] = f"{asked}: {refused.reason}"
        if refused.calling_ae_refused:
            _refused_everything(seen, f"{asked}: {refused.reason}")
            return
        if target.called_ae is None:
            _unknown(
                doc,
                f"A-ASSOCIATE {target.id}",
                "CalledAeNeeded",
                f"{asked}: {refused.reason}; give the server's called AE title as HOST:PORT/AET",
            )
            return
        called, asked = target.called_ae, f"{options.calling_ae} -> {target.called_ae}"
        try:
            session = _associate(target, options, called)
        except _Refused as again:
            if again.calling_ae_refused:
                _refused_everything(seen, f"{asked}: {again.reason}")
            else:
                _unknown(doc, f"A-ASSOCIATE {target.id}", "Rejected", f"{asked}: {again.reason}")
            return
    except _Unclear as exc:
        seen["any_called_ae"] = None
        _unknown(doc, f"A-ASSOCIATE {target.id}", "Unclear", f"{asked}: {exc}", also=["any_called_ae"])
        return
    doc["address"]["called_ae"] = called
    seen["associate"] = True
    observed["associate"] = f"{asked}: association accepted"
    assoc, _ = session
    doc["implementation"] = {
        "class_uid": str(assoc.acceptor.implementation_class_uid or "") or None,
        "version_name": assoc.acceptor.implementation_version_name or None,
    }
    _echo_store_find(doc, session, seen)


def _unknown(
    doc: Document, call: str, code: str, message: str, also: tuple[str, ...] | list[str] = ()
) -> None:
    fields = ["associate", "echo", "find", "store_context", *also]
    mark_unknown(doc, [f"/unknown_ae/{k}" for k in fields], call=call, code=code, message=message)


def _echo_store_find(doc: Document, session: tuple[Any, list[Any]], seen: dict[str, Any]) -> None:
    from pydicom.dataset import Dataset
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as StudyFind
    from pynetdicom.sop_class import Verification

    assoc, received = session
    observed = seen["observed"]
    accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
    storage = sorted(uid for uid in accepted if uid not in (Verification, StudyFind))
    seen["store_context"] = bool(storage)
    observed["store_context"] = (
        f"storage contexts accepted: {', '.join(_name(u) for u in storage)} (C-STORE possible; none sent)"
        if storage
        else "no storage context accepted"
    )
    if Verification in accepted:
        status = assoc.send_c_echo()
        if status and "Status" in status:
            seen["echo"] = status.Status == 0x0000
            observed["echo"] = f"C-ECHO -> status 0x{status.Status:04X}"
        else:
            seen["echo"] = None
            _mark(doc, "echo", "C-ECHO", "no answer within the timeout")
    else:
        seen["echo"] = False
        observed["echo"] = "Verification context rejected"
    if StudyFind not in accepted:
        # Only Study Root is asked: a server offering Patient Root only is not judged here.
        seen["find"] = False
        observed["find"] = "Study Root C-FIND context rejected"
        if assoc.is_established:
            assoc.release()
        return
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = PROBE_UID
    statuses, matches = [], 0
    if assoc.is_established:
        for status, _identifier in assoc.send_c_find(query, StudyFind):
            if not status or "Status" not in status:
                break
            statuses.append(status.Status)
            if status.Status in (0xFF00, 0xFF01):
                matches += 1  # counted, never read
    if assoc.is_established:
        assoc.release()
    final = statuses[-1] if statuses else None
    peer_aborted = any(type(p).__name__ in ("A_ABORT", "A_P_ABORT") for p in received)
    shown = "C-FIND study <made-up UID> -> "
    if final == 0x0000:
        seen["find"] = True
        observed["find"] = f"{shown}status 0x0000, {matches} matches (not read)"
    elif final is None and peer_aborted:
        seen["find"] = False  # Orthanc's way of refusing a query from an unknown AE
        observed["find"] = f"{shown}the server aborted the association (query refused)"
    elif final == 0x0124:
        seen["find"] = False  # Refused: Not Authorized
        observed["find"] = f"{shown}status 0x{final:04X} (refused)"
    else:
        seen["find"] = None
        _mark(
            doc,
            "find",
            "C-FIND",
            f"{shown}"
            + (f"status 0x{final:04X}" if final is not None else "no answer within the timeout")
            + ": neither yes nor no",
        )


def _mark(doc: Document, field: str, call: str, message: str) -> None:
    mark_unknown(doc, [f"/unknown_ae/{field}"], call=f"{call} {doc['id']}", code="Unclear", message=message)


def _refused_everything(seen: dict[str, Any], why: str) -> None:
    for key in ("associate", "echo", "find", "store_context"):
        seen[key] = False
        seen["observed"][key] = why


def _associate(target: DimseTarget, options: DimseOptions, called: str) -> tuple[Any, list[Any]]:
    """An established association and the ACSE primitives received on it, or _Refused /
    _Unclear / ConnectionError."""
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import (
        CTImageStorage,
        MRImageStorage,
        SecondaryCaptureImageStorage,
        StudyRootQueryRetrieveInformationModelFind,
        Verification,
    )

    ae = AE(ae_title=options.calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = options.timeout
    ae.connection_timeout = options.timeout
    for context in (
        Verification,
        StudyRootQueryRetrieveInformationModelFind,
        CTImageStorage,
        MRImageStorage,
        SecondaryCaptureImageStorage,
    ):
        ae.add_requested_context(context)
    received: list[Any] = []
    assoc = ae.associate(
        target.host,
        target.port,
        ae_title=called,
        evt_handlers=[(evt.EVT_ACSE_RECV, lambda event: received.append(event.primitive))],
    )
    if assoc.is_established:
        return assoc, received
    if assoc.is_rejected:
        reply = next((a for a in received if getattr(a, "result", None) in (1, 2)), None)
        if reply is None or reply.result == 2:
            raise _Unclear("association rejected for now (transient): busy or limited, try again later")
        key = (reply.result_source, reply.diagnostic)
        raise _Refused(
            f"association rejected: {REJECT_REASONS.get(key, f'source {key[0]}, reason {key[1]}')}",
            calling_ae_refused=key == (1, 3),
        )
    if assoc.is_aborted and received:
        raise _Refused("association aborted by the server")  # the peer spoke DICOM: A-ABORT
    if assoc.is_aborted:
        raise ConnectionError(f"{target.host}:{target.port} gave no DICOM answer within {options.timeout:g}s")
    raise ConnectionError(f"no association with {target.host}:{target.port} (no DICOM answer)")


def _name(uid: str) -> str:
    from pydicom.uid import UID

    return UID(uid).name


def _silence_pynetdicom() -> None:
    """pynetdicom logs the identifiers of C-FIND answers: its log is switched off for good while
    cloudscan runs (once, not per probe: probes run in threads and must not restore it)."""
    logging.getLogger("pynetdicom").setLevel(logging.CRITICAL + 1)
