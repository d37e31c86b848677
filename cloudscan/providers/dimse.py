"""Probe a DICOM network service (DIMSE) as an AE title it has never been told of.

Read-only by construction: associations, C-ECHO, and a study-level C-FIND for a UID that
matches nothing. Storage contexts are proposed to see whether they are accepted, and the
association is released: a C-STORE is never sent, so storage is only ever "possible".
Matches of the C-FIND (there should be none) are counted, never read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
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
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def probe_dimse(target: DimseTarget, options: DimseOptions) -> Document:
    doc = new_resource(
        "dimse.endpoint", "dimse", target.id, name=f"{target.host}:{target.port}", source={"type": "live"}
    )
    doc["address"] = {"host": target.host, "port": target.port, "called_ae": target.called_ae}
    seen: dict[str, Any] = {k: None for k in ("associate", "any_called_ae", "echo", "find", "store_context")}
    seen["observed"] = {}
    doc["unknown_ae"] = seen
    with _quiet_pynetdicom():
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


def _probe(doc: Document, target: DimseTarget, options: DimseOptions, seen: dict[str, Any]) -> None:
    observed = seen["observed"]
    called = MADE_UP_AE
    try:
        assoc = _associate(target, options, MADE_UP_AE)
        seen["any_called_ae"] = True
        observed["any_called_ae"] = f"{options.calling_ae} -> {MADE_UP_AE}: association accepted"
    except _Refused as refused:
        seen["any_called_ae"] = False
        observed["any_called_ae"] = f"{options.calling_ae} -> {MADE_UP_AE}: {refused.reason}"
        if REJECT_REASONS[(1, 7)] not in refused.reason and "aborted" not in refused.reason:
            _refused_everything(seen, f"{options.calling_ae} -> {MADE_UP_AE}: {refused.reason}")
            return
        if target.called_ae is None:
            mark_unknown(
                doc,
                [f"/unknown_ae/{k}" for k in ("associate", "echo", "find", "store_context")],
                call=f"A-ASSOCIATE {target.id}",
                code="CalledAeNeeded",
                message="the server checks the called AE title: give it as HOST:PORT/AET",
            )
            return
        called = target.called_ae
        try:
            assoc = _associate(target, options, called)
        except _Refused as again:
            _refused_everything(seen, f"{options.calling_ae} -> {called}: {again.reason}")
            return
    doc["address"]["called_ae"] = called
    seen["associate"] = True
    observed["associate"] = f"{options.calling_ae} -> {called}: association accepted"
    doc["implementation"] = {
        "class_uid": str(assoc.acceptor.implementation_class_uid or "") or None,
        "version_name": assoc.acceptor.implementation_version_name or None,
    }
    _echo_store_find(assoc, seen)


def _echo_store_find(assoc: Any, seen: dict[str, Any]) -> None:
    from pydicom.dataset import Dataset
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

    observed = seen["observed"]
    accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
    storage = sorted(
        uid for uid in accepted if uid not in (Verification, StudyRootQueryRetrieveInformationModelFind)
    )
    seen["store_context"] = bool(storage)
    observed["store_context"] = (
        f"storage contexts accepted: {', '.join(_name(u) for u in storage)} (C-STORE possible; none sent)"
        if storage
        else "no storage context accepted"
    )
    if Verification in accepted:
        status = assoc.send_c_echo()
        seen["echo"] = bool(status) and status.Status == 0
        observed["echo"] = f"C-ECHO -> status 0x{status.Status:04X}" if status else "C-ECHO -> no answer"
    else:
        seen["echo"] = False
        observed["echo"] = "Verification context rejected"
    if StudyRootQueryRetrieveInformationModelFind not in accepted:
        seen["find"] = False
        observed["find"] = "Study Root C-FIND context rejected"
        assoc.release()
        return
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = PROBE_UID
    statuses, matches = [], 0
    for status, _identifier in assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind):
        if not status:
            break
        statuses.append(status.Status)
        if status.Status in (0xFF00, 0xFF01):
            matches += 1  # counted, never read
    if assoc.is_established:
        assoc.release()
    final = statuses[-1] if statuses else None
    seen["find"] = final == 0x0000
    observed["find"] = f"C-FIND study {'<made-up UID>'} -> " + (
        f"status 0x{final:04X}, {matches} matches (not read)"
        if final is not None
        else "association aborted (query refused)"
    )


def _refused_everything(seen: dict[str, Any], why: str) -> None:
    for key in ("associate", "echo", "find", "store_context"):
        seen[key] = False
        seen["observed"][key] = why


def _associate(target: DimseTarget, options: DimseOptions, called: str) -> Any:
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
    answers: list[Any] = []
    assoc = ae.associate(
        target.host,
        target.port,
        ae_title=called,
        evt_handlers=[(evt.EVT_ACSE_RECV, lambda event: answers.append(event.primitive))],
    )
    if assoc.is_established:
        return assoc
    if assoc.is_rejected:
        reply = next((a for a in answers if getattr(a, "result", None) in (1, 2)), None)
        key = (reply.result_source, reply.diagnostic) if reply is not None else None
        raise _Refused(f"association rejected: {REJECT_REASONS.get(key, 'reason ' + str(key))}")
    if assoc.is_aborted and answers:
        raise _Refused("association aborted")  # the peer spoke DICOM: A-ABORT
    if assoc.is_aborted:
        raise ConnectionError(f"{target.host}:{target.port} gave no DICOM answer within {options.timeout:g}s")
    raise ConnectionError(f"no association with {target.host}:{target.port} (no DICOM answer)")


def _name(uid: str) -> str:
    from pydicom.uid import UID

    return UID(uid).name


@contextmanager
def _quiet_pynetdicom() -> Iterator[None]:
    """pynetdicom logs identifiers of C-FIND answers at debug level: never let them out."""
    logger = logging.getLogger("pynetdicom")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
