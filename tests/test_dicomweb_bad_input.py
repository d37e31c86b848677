"""Servers that are not DICOMweb, or not HTTP at all, or never finish: each gives a clear
result naming the endpoint, never a crash, a hang or a pass."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner
from http_fronts import odd_server

from cloudscan.cli import cli
from cloudscan.providers.dicomweb.http import MAX_BODY, fetch
from cloudscan.providers.dicomweb.probe import ProbeOptions, probe_endpoint
from cloudscan.providers.dimse import DimseOptions, DimseTarget, probe_dimse

TIMEOUT = 1.0


@pytest.fixture
def server(request):
    background = odd_server(request.param)
    yield f"http://127.0.0.1:{background.port}"
    background.stop()


def _scan(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(
        cli,
        ["scan", "dicomweb", "--format", "json", "--timeout", str(TIMEOUT), *args],
        catch_exceptions=False,
    )
    return result.exit_code, json.loads(result.output[: result.output.rindex("}") + 1])


@pytest.mark.parametrize(
    ("server", "code"),
    [
        ("garbage", "BadStatusLine"),
        ("silent", "Timeout"),
        ("slow", "Timeout"),
        ("trickle", "Timeout"),
        ("reset", None),
    ],
    indirect=["server"],
)
def test_no_http_answer_makes_every_result_unknown(server, code):
    started = time.monotonic()
    exit_code, report = _scan(f"{server}/dicom-web", "--strict")
    assert exit_code == 3
    assert time.monotonic() - started < 20  # bounded by the timeout, not by the server
    (endpoint,) = report["resources"]
    (error,) = endpoint["_meta"]["errors"]
    assert error["call"].startswith("GET /dicom-web/studies?StudyInstanceUID=<made-up UID>")
    if code:
        assert error["code"] == code
    assert {f["status"] for f in report["findings"]} <= {"UNKNOWN", "NOT_APPLICABLE"}


@pytest.mark.parametrize("server", ["html"], indirect=True)
def test_a_web_site_that_is_not_dicomweb_passes_nothing_it_did_not_see(server):
    doc = probe_endpoint(f"{server}/dicom-web", ProbeOptions(timeout=TIMEOUT))
    access = doc["access"]
    # A web page at the UI paths that is not the product's UI is not an admin UI either.
    assert access["search"] == "absent" and access["rest_api"] == "absent" and access["admin_ui"] == "absent"
    assert "200 text/html" in access["observed"]["search"]


@pytest.mark.parametrize("server", ["endless"], indirect=True)
def test_a_huge_body_is_read_no_further_than_the_bound(server):
    answer = fetch(f"{server}/dicom-web/studies", timeout=5)
    assert answer.truncated and len(answer.body) == MAX_BODY
    doc = probe_endpoint(f"{server}/dicom-web", ProbeOptions(timeout=5, probe_stow=False))
    # Results without end for a UID that matches nothing: the server ignores the filter and
    # hands out studies. Open, and nothing of what it sent is kept.
    assert doc["access"]["search"] == "open"
    assert "(over 64 KiB, not read)" in doc["access"]["observed"]["search"]
    assert "PatientName" not in json.dumps(doc) and "00100010" not in json.dumps(doc)


@pytest.mark.parametrize("server", ["redirect-elsewhere"], indirect=True)
def test_a_redirect_to_a_login_page_is_protected_and_not_followed(server):
    exit_code, report = _scan(f"{server}/dicom-web", "--only", "dicomweb-no-unauthenticated-*")
    assert exit_code == 0
    assert {f["status"] for f in report["findings"]} == {"PASS"}
    (endpoint,) = report["resources"]
    assert "302 to https://sso.example.org/login" in endpoint["access"]["observed"]["search"]


@pytest.mark.parametrize("server", ["redirect-https"], indirect=True)
def test_plain_http_redirected_to_https_says_to_scan_the_https_url(server):
    _, report = _scan(
        f"{server}/dicom-web", "--only", "dicomweb-https-only", "--only", "dicomweb-no-unauthenticated-search"
    )
    statuses = {f["policy_id"]: f["status"] for f in report["findings"]}
    assert statuses == {"dicomweb-https-only": "PASS", "dicomweb-no-unauthenticated-search": "UNKNOWN"}
    search = next(f for f in report["findings"] if f["policy_id"] == "dicomweb-no-unauthenticated-search")
    assert "scan the https:// URL" in search["evidence"][0]["message"]


def test_nothing_listening():
    exit_code, report = _scan("http://127.0.0.1:1/dicom-web", "--dimse", "127.0.0.1:1")
    assert exit_code == 3  # nothing could be read: no clean result, even without --strict
    messages = [e["message"] for r in report["resources"] for e in r["_meta"]["errors"]]
    assert len(messages) == 2 and any("refused" in m.lower() for m in messages)


@pytest.mark.parametrize("server", ["garbage", "html"], indirect=True)
def test_dimse_probe_of_something_that_is_not_dicom(server):
    host, port = server.removeprefix("http://").split(":")
    doc = probe_dimse(DimseTarget(host, int(port)), DimseOptions(timeout=TIMEOUT))
    assert doc["unknown_ae"] is None
    assert doc["_meta"]["errors"][0]["call"] == f"A-ASSOCIATE dicom://{host}:{port}"


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("ftp://pacs.example.org/", "neither an http(s):// DICOMweb URL"),
        ("http://pacs.example.org:port/", "invalid port"),
        ("--dimse=pacs.example.org", "expected HOST:PORT"),
        ("--dimse=pacs:104/AN-AE-TITLE-THAT-IS-TOO-LONG", "at most 16 characters"),
    ],
)
def test_bad_targets_are_usage_errors(argument, message):
    result = CliRunner().invoke(cli, ["scan", "dicomweb", argument])
    assert result.exit_code == 2
    assert message in result.output


def test_no_target_at_all():
    result = CliRunner().invoke(cli, ["scan", "dicomweb"])
    assert result.exit_code == 2 and "nothing to probe" in result.output


@pytest.mark.parametrize("server", ["redirect-slash"], indirect=True)
@pytest.mark.parametrize("base", ["/dicom-web", "/imaging-associates/dicom-web"])  # "sso" inside a word
def test_a_redirect_that_is_not_to_a_login_page_is_unknown(server, base):
    exit_code, report = _scan(f"{server}{base}", "--only", "dicomweb-no-unauthenticated-search", "--strict")
    assert exit_code == 3
    (finding,) = report["findings"]
    assert finding["status"] == "UNKNOWN"
    assert "not to a login page" in finding["evidence"][0]["message"]


def test_credentials_in_a_target_url_are_refused_and_never_echoed():
    for url in (
        "https://alice:S3cretPW@pacs.example.org/dicom-web",
        "https://pacs.example.org/dicom-web?token=T0KEN",
    ):
        result = CliRunner().invoke(cli, ["scan", "dicomweb", url])
        assert result.exit_code == 2
        assert "S3cretPW" not in result.output and "T0KEN" not in result.output


def test_a_ca_bundle_that_is_not_pem_is_a_usage_error(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate")
    result = CliRunner().invoke(
        cli, ["scan", "dicomweb", "https://127.0.0.1:1/dicom-web", "--ca-bundle", str(bundle)]
    )
    assert result.exit_code == 2 and "--ca-bundle" in result.output


def test_a_host_name_that_cannot_be_encoded_is_an_endpoint_error():
    _, report = _scan("http://a..b/dicom-web")
    (endpoint,) = report["resources"]
    assert endpoint["_meta"]["errors"][0]["code"] == "BadUrl"
