"""DIMSE probes against pynetdicom SCPs that behave as Orthanc does not: a server that is busy,
one that answers a query too slowly, one that hands out a study to anyone. None of them may
turn into a PASS, and no patient value may reach the output or the log."""

from __future__ import annotations

import json
import logging
import time

import pytest
from click.testing import CliRunner
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

from cloudscan.cli import cli
from cloudscan.providers.dimse import DimseOptions, DimseTarget, probe_dimse

MARKER = "ZZMARKER^PATIENT"


def _scp(handlers, maximum_associations: int = 10):
    ae = AE(ae_title="TESTSCP")
    ae.add_supported_context(Verification)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    ae.maximum_associations = maximum_associations
    ae.network_timeout = ae.acse_timeout = ae.dimse_timeout = 10
    return ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)


@pytest.fixture
def leaking_scp():
    def on_find(event):
        match = Dataset()
        match.PatientName = MARKER
        match.PatientID = "ZZMRN-424242"
        match.QueryRetrieveLevel = "STUDY"
        yield 0xFF00, match
        yield 0x0000, None

    server = _scp([(evt.EVT_C_FIND, on_find)])
    yield server
    server.shutdown()


@pytest.fixture
def slow_scp():
    def on_find(event):
        time.sleep(3)
        yield 0x0000, None

    server = _scp([(evt.EVT_C_FIND, on_find)])
    yield server
    server.shutdown()


def _target(server) -> DimseTarget:
    return DimseTarget("127.0.0.1", server.server_address[1])


def test_a_query_answered_with_a_study_is_open_and_the_study_is_never_read(leaking_scp, caplog):
    caplog.set_level(logging.DEBUG)
    port = leaking_scp.server_address[1]
    outputs = []
    for fmt in ("text", "json", "sarif"):
        result = CliRunner().invoke(
            cli,
            ["scan", "dicomweb", "--dimse", f"127.0.0.1:{port}", "--format", fmt, "--verbose"],
            catch_exceptions=False,
        )
        assert result.exit_code == 1
        outputs.append(result.output)
    report = json.loads(outputs[1][: outputs[1].rindex("}") + 1])
    (doc,) = report["resources"]
    assert doc["unknown_ae"]["find"] is True
    assert "a match (not read)" in doc["unknown_ae"]["observed"]["find"]
    for text in [*outputs, caplog.text]:
        assert MARKER not in text and "ZZMRN-424242" not in text and "ZZMARKER" not in text


def test_a_query_answered_too_late_is_unknown_not_refused(slow_scp):
    doc = probe_dimse(_target(slow_scp), DimseOptions(timeout=1))
    assert doc["unknown_ae"]["find"] is None
    assert "/unknown_ae/find" in doc["_meta"]["unknown"]
    assert doc["unknown_ae"]["echo"] is True


def test_a_busy_server_is_unknown_not_refused():
    server = _scp([], maximum_associations=1)
    holder = AE(ae_title="HOLDER")
    holder.add_requested_context(Verification)
    held = holder.associate("127.0.0.1", server.server_address[1], ae_title="TESTSCP")
    try:
        assert held.is_established
        doc = probe_dimse(_target(server), DimseOptions(timeout=2))
        assert doc["unknown_ae"]["associate"] is None and doc["unknown_ae"]["find"] is None
        assert any("rejected for now" in e["message"] for e in doc["_meta"]["errors"])
    finally:
        held.release()
        server.shutdown()
