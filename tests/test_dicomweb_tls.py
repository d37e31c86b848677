"""TLS in front of a real Orthanc (its own HTTPS crashes on OpenSSL 3, so a terminator made
here does it, as a reverse proxy would): versions accepted and certificate validity."""

from __future__ import annotations

import json
import ssl

import pytest
from click.testing import CliRunner
from http_fronts import make_certificates, tls_front
from orthanc_server import OPEN, start_orthanc

from cloudscan.cli import cli


@pytest.fixture(scope="module")
def fronts(tmp_path_factory):
    base = tmp_path_factory.mktemp("tls")
    server = start_orthanc(base / "orthanc", "tls-backend", OPEN)
    certs = make_certificates(base / "certs")
    modern = tls_front(server.http_port, certs, ssl.TLSVersion.TLSv1_2)
    legacy = tls_front(server.http_port, certs, ssl.TLSVersion.TLSv1)
    try:
        yield {
            "modern": f"https://127.0.0.1:{modern.port}/dicom-web",
            "legacy": f"https://127.0.0.1:{legacy.port}/dicom-web",
            "ca": certs.ca,
        }
    finally:
        modern.stop()
        legacy.stop()
        server.stop()


def _scan(*args: str) -> dict:
    result = CliRunner().invoke(
        cli, ["scan", "dicomweb", "--format", "json", "--fail-on", "none", *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output[: result.output.rindex("}") + 1])


def _statuses(report: dict, urls: dict) -> dict:
    names = {v: k for k, v in urls.items() if k != "ca"}
    return {(names[f["resource"]["id"]], f["policy_id"]): f["status"] for f in report["findings"]}


def test_legacy_tls_and_an_untrusted_certificate_fail(fronts):
    report = _scan(fronts["modern"], fronts["legacy"], "--only", "dicomweb-*")
    found = _statuses(report, fronts)
    assert found[("legacy", "dicomweb-no-legacy-tls")] == "FAIL"
    assert found[("modern", "dicomweb-no-legacy-tls")] == "PASS"
    assert found[("modern", "dicomweb-valid-certificate")] == "FAIL"
    assert found[("modern", "dicomweb-https-only")] == "PASS"
    # Over TLS the probes still reach Orthanc: it is open, and HTTPS does not change that.
    assert found[("modern", "dicomweb-no-unauthenticated-search")] == "FAIL"
    versions = {r["id"]: r["transport"]["tls_versions"] for r in report["resources"]}
    assert "TLSv1" in versions[fronts["legacy"]] and "TLSv1.2" in versions[fronts["legacy"]]
    assert versions[fronts["modern"]][0] == "TLSv1.2"
    problem = {r["id"]: r["transport"]["certificate"]["problem"] for r in report["resources"]}
    assert "certificate" in problem[fronts["modern"]]


def test_a_certificate_from_a_trusted_private_ca_passes(fronts):
    report = _scan(fronts["modern"], "--only", "dicomweb-valid-certificate", "--ca-bundle", str(fronts["ca"]))
    assert _statuses(report, fronts) == {("modern", "dicomweb-valid-certificate"): "PASS"}


def test_plain_http_to_a_tls_port_is_a_clear_error(fronts):
    url = fronts["modern"].replace("https://", "http://")
    result = CliRunner().invoke(
        cli, ["scan", "dicomweb", url, "--format", "json", "--timeout", "2"], catch_exceptions=False
    )
    report = json.loads(result.output[: result.output.rindex("}") + 1])
    (endpoint,) = report["resources"]
    assert endpoint["_meta"]["errors"], endpoint
    assert {f["status"] for f in report["findings"]} <= {"UNKNOWN", "NOT_APPLICABLE"}
