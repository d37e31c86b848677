"""Probe a DICOM network service (DIMSE) as an AE title it has never been told of.

Read-only by construction: associations, C-ECHO, and a study-level C-FIND for a UID that
matches nothing. Storage contexts are proposed to see whether they are accepted, and the
association is released: a C-STORE is never sent, so storage is only ever "possible".
Matches of the C-FIND (there should be none) are counted, never read.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

from cloudscan.model import Document, mark_unknown, new_resource
from cloudscan.providers.endpoints import MADE_UP_STUDY_UID as PROBE_UID

MADE_UP_AE = "CLOUDSCAN-NOAE"  # the called AE title no server is named
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
        if "@" in rest:
            raise ValueError("a DICOM address has no user or password: give HOST:PORT[/AET]")
        address, _, ae = rest.partition("/")
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
            raise ValueError(f"{text[:100]!r}: expected HOST:PORT or HOST:PORT/AET")
        if ae and len(ae) > 16:
            raise ValueError(f"{text!r}: an AE title has at most 16 characters")
        return cls(host.strip("[]"), int(port), ae or None)

    @property
    def id(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"dicom://{host}:{self.port}"


class _Refused(Exception):
    def __init__(
        self, reason: str, calling_ae_refused: bool = False, called_ae_refused: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.calling_ae_refused = calling_ae_refused
        self.called_ae_refused = called_ae_refused


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
        # It refused an AE title that is not its own: it does not answer to any called AE.
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
            if again.called_ae_refused:
                _unknown(
                    doc,
                    f"A-ASSOCIATE {target.id}",
                    "CalledAeRefused",
                    f"{asked}: {again.reason}: is {called} the server's AE title?",
                )
            else:
                _refused_everything(seen, f"{asked}: {again.reason}")
            return
        except _Unclear as exc:
            _unknown(doc, f"A-ASSOCIATE {target.id}", "Unclear", f"{asked}: {exc}")
            return
    except _Unclear as exc:
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
    find_offered = _echo_and_store(doc, session, seen)
    if find_offered:
        _find(doc, target, options, called, seen)


def _unknown(
    doc: Document, call: str, code: str, message: str, also: tuple[str, ...] | list[str] = ()
) -> None:
    fields = ["associate", "echo", "find", "store_context", *also]
    mark_unknown(doc, [f"/unknown_ae/{k}" for k in fields], call=call, code=code, message=message)


def _echo_and_store(doc: Document, session: tuple[Any, list[Any]], seen: dict[str, Any]) -> bool:
    """C-ECHO, and which storage contexts were accepted; whether Study Root C-FIND was."""
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
    if Verification not in accepted:
        seen["echo"] = False
        observed["echo"] = "Verification context rejected"
    else:
        before = len(received)
        status = assoc.send_c_echo()
        if status and "Status" in status:
            seen["echo"] = status.Status == 0x0000
            observed["echo"] = f"C-ECHO -> status 0x{status.Status:04X}"
        elif _server_aborted(received[before:]):
            seen["echo"] = False
            observed["echo"] = "C-ECHO -> the server aborted the association (refused)"
        else:
            _mark(doc, "echo", "C-ECHO", "no answer within the timeout")
    if assoc.is_established:
        assoc.release()
    if StudyFind not in accepted:
        _mark(
            doc, "find", "C-FIND", "the Study Root C-FIND context was not accepted: only Study Root is asked"
        )
        return False
    return True


def _find(
    doc: Document, target: DimseTarget, options: DimseOptions, called: str, seen: dict[str, Any]
) -> None:
    """A study-level C-FIND for a UID that matches nothing, on an association of its own (a
    server may abort on the C-ECHO and still answer queries). The first pending answer proves
    the query open: the association is aborted there, matches are never read."""
    from pydicom.dataset import Dataset
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as StudyFind

    shown = "C-FIND study <made-up UID> -> "
    try:
        assoc, received = _associate(target, options, called)
    except (_Refused, _Unclear) as exc:
        _mark(doc, "find", "C-FIND", f"{shown}a second association was not accepted: {exc}")
        return
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = PROBE_UID
    before, final, pending = len(received), None, False
    for status, _identifier in assoc.send_c_find(query, StudyFind):
        if not status or "Status" not in status:
            break
        if status.Status in (0xFF00, 0xFF01):
            pending = True  # a match for a UID that cannot exist: anyone may query
            break
        final = status.Status
    server_aborted = _server_aborted(received[before:])
    if assoc.is_established:
        assoc.abort() if pending else assoc.release()
    if pending or final == 0x0000:
        seen["find"] = True
        seen["observed"]["find"] = shown + ("a match (not read)" if pending else "status 0x0000, no match")
    elif final == 0x0124 or (final is None and server_aborted):
        seen["find"] = False  # Refused: Not Authorized, or Orthanc's abort
        seen["observed"]["find"] = shown + (
            "status 0x0124 (not authorized)"
            if final == 0x0124
            else "the server aborted the association (refused)"
        )
    else:
        _mark(
            doc,
            "find",
            "C-FIND",
            shown
            + (f"status 0x{final:04X}" if final is not None else "no answer within the timeout")
            + ": neither yes nor no",
        )


def _server_aborted(received: list[Any]) -> bool:
    """An A-ABORT the server sent; pynetdicom's own A-P-ABORT (a dropped connection) is not one."""
    return any(type(pdu).__name__ == "A_ABORT_RQ" for pdu in received)


def _mark(doc: Document, field: str, call: str, message: str) -> None:
    doc["unknown_ae"][field] = None
    mark_unknown(doc, [f"/unknown_ae/{field}"], call=f"{call} {doc['id']}", code="Unclear", message=message)


def _refused_everything(seen: dict[str, Any], why: str) -> None:
    for key in ("associate", "echo", "find", "store_context"):
        seen[key] = False
        seen["observed"][key] = why


def _associate(target: DimseTarget, options: DimseOptions, called: str) -> tuple[Any, list[Any]]:
    """An established association and the ACSE primitives received on it; or _Refused (a
    permanent rejection or an abort by the server), _Unclear (a transient rejection), or
    ConnectionError (nothing that speaks DICOM)."""
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
    answers: list[Any] = []  # ACSE primitives: the A-ASSOCIATE answer
    received: list[Any] = []  # every PDU the server sent: an A-ABORT-RQ is its own abort
    assoc = ae.associate(
        target.host,
        target.port,
        ae_title=called,
        evt_handlers=[
            (evt.EVT_ACSE_RECV, lambda event: answers.append(event.primitive)),
            (evt.EVT_PDU_RECV, lambda event: received.append(event.pdu)),
        ],
    )
    if assoc.is_established:
        return assoc, received
    reply = next((a for a in answers if getattr(a, "result", None) in (1, 2)), None)
    if assoc.is_rejected and reply is not None:
        key = (reply.result_source, reply.diagnostic)
        reason = REJECT_REASONS.get(key, f"source {key[0]}, reason {key[1]}")
        if reply.result == 2 or reply.result_source == 3:
            raise _Unclear(f"association rejected for now ({reason}): busy or limited, try again later")
        raise _Refused(
            f"association rejected: {reason}",
            calling_ae_refused=key == (1, 3),
            called_ae_refused=key == (1, 7),
        )
    if _server_aborted(received):
        raise _Refused("association aborted by the server")
    raise ConnectionError(f"{target.host}:{target.port} gave no DICOM answer within {options.timeout:g}s")


def _name(uid: str) -> str:
    from pydicom.uid import UID

    return UID(uid).name


def _silence_pynetdicom() -> None:
    """pynetdicom logs the identifiers of C-FIND answers: its log is switched off for good while
    cloudscan runs (once, not per probe: probes run in threads and must not restore it)."""
    logging.getLogger("pynetdicom").setLevel(logging.CRITICAL + 1)
    # pydicom warns about malformed values it decodes, quoting them: never a value in output.
    warnings.filterwarnings("ignore", module=r"pydicom(\..*)?$")
