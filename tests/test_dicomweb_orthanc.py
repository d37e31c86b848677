"""scan dicomweb and scan config against a real Orthanc with its DICOMweb plugin.

Four servers: open (no login), protected (a registered user, DIMSE limited to one modality),
default (remote access on, nothing else: Orthanc creates orthanc/orthanc), and
authentication on without any user. Each holds pydicom's CT_small study, whose patient
values must appear in no output, and whose instance count must not change.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from orthanc_server import DEFAULT, OPEN, PROTECTED, start_orthanc
from pydicom import dcmread
from pydicom.data import get_testdata_file

from cloudscan.cli import cli
from cloudscan.model import load_schema, schema_registry

CT_SMALL = Path(get_testdata_file("CT_small.dcm"))
AUTH_WITHOUT_USERS = {"RemoteAccessAllowed": True, "AuthenticationEnabled": True}
# Refuses C-ECHO from unknown AEs (it aborts) but answers their queries: the query must still be seen.
ECHO_OFF_FIND_ON = {
    "RemoteAccessAllowed": True,
    "AuthenticationEnabled": True,
    "DicomAlwaysAllowEcho": False,
    "DicomAlwaysAllowFind": True,
}
CONFIG_ONLY = {"orthanc-lua-scripts-disabled", "orthanc-rest-api-no-filesystem-writes"}

# policy -> status per server, from `scan dicomweb --probe-credentials` (DIMSE given the AE title)
EXPECTED = {
    "dicomweb-no-unauthenticated-search": {
        "open": "FAIL",
        "protected": "PASS",
        "default": "PASS",
        "auth-no-users": "PASS",
        "echo-off": "PASS",
    },
    "dicomweb-no-unauthenticated-retrieve": {
        "open": "FAIL",
        "protected": "PASS",
        "default": "PASS",
        "auth-no-users": "PASS",
        "echo-off": "PASS",
    },
    "dicomweb-no-unauthenticated-store": {
        "open": "FAIL",
        "protected": "PASS",
        "default": "PASS",
        "auth-no-users": "PASS",
        "echo-off": "PASS",
    },
    "pacs-no-unauthenticated-admin": {
        "open": "FAIL",
        "protected": "PASS",
        "default": "PASS",
        "auth-no-users": "PASS",
        "echo-off": "PASS",
    },
    "pacs-no-default-credentials": {
        "open": "NOT_APPLICABLE",
        "protected": "PASS",
        "default": "FAIL",
        "auth-no-users": "FAIL",
        "echo-off": "PASS",
    },
    "dicomweb-no-password-over-http": {
        "open": "PASS",
        "protected": "FAIL",
        "default": "FAIL",
        "auth-no-users": "FAIL",
        "echo-off": "FAIL",
    },
    "dicomweb-https-only": {
        "open": "FAIL",
        "protected": "FAIL",
        "default": "FAIL",
        "auth-no-users": "FAIL",
        "echo-off": "FAIL",
    },
    "pacs-no-version-disclosure": {
        "open": "FAIL",
        "protected": "PASS",
        "default": "PASS",
        "auth-no-users": "PASS",
        "echo-off": "PASS",
    },
    "dicomweb-cors-no-any-origin": {
        "open": "PASS",
        "protected": "PASS",
        "default": "PASS",
        "auth-no-users": "PASS",
        "echo-off": "PASS",
    },
    "dicomweb-no-legacy-tls": {
        "open": "NOT_APPLICABLE",
        "protected": "NOT_APPLICABLE",
        "default": "NOT_APPLICABLE",
        "auth-no-users": "NOT_APPLICABLE",
        "echo-off": "NOT_APPLICABLE",
    },
    "dimse-no-unknown-ae-query": {
        "open": "FAIL",
        "protected": "PASS",
        "default": "PASS",
        "auth-no-users": "PASS",
        "echo-off": "FAIL",
    },
    "dimse-no-unknown-ae-store": {
        "open": "FAIL",
        "protected": "PASS",
        "default": "FAIL",
        "auth-no-users": "FAIL",
        "echo-off": "FAIL",
    },
    "dimse-called-ae-checked": {
        "open": "FAIL",
        "protected": "PASS",
        "default": "FAIL",
        "auth-no-users": "FAIL",
        "echo-off": "FAIL",
    },
    "dimse-no-unknown-ae-echo": {
        "open": "FAIL",
        "protected": "PASS",
        "default": "FAIL",
        "auth-no-users": "FAIL",
        "echo-off": "PASS",
    },
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    base = tmp_path_factory.mktemp("orthanc")
    started = {}
    try:
        for name, settings, login in (
            ("open", OPEN, None),
            ("protected", PROTECTED, ("alice", secrets.token_hex(12))),
            ("default", DEFAULT, None),
            ("auth-no-users", AUTH_WITHOUT_USERS, None),
            ("echo-off", ECHO_OFF_FIND_ON, ("bob", secrets.token_hex(12))),
        ):
            started[name] = start_orthanc(base / name, name, settings, login)
        for name, server in started.items():
            login = None if name == "open" or server.credentials else ("orthanc", "orthanc")
            status, body = server.request("POST", "/instances", CT_SMALL.read_bytes(), auth=login)
            assert status == 200, (name, status, body[:200])
        yield started
    finally:
        for server in started.values():
            server.stop()


def scan(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["scan", *args], catch_exceptions=False)
    return result.exit_code, result.output


def live_statuses(servers, *extra: str) -> dict[str, dict[str, str]]:
    return _statuses(live_report(servers, *extra), servers)


def live_report(servers, *extra: str) -> dict:
    args = ["dicomweb", "--format", "json", "--probe-credentials", "--fail-on", "none", *extra]
    for server in servers.values():
        args += [server.dicomweb, "--dimse", f"127.0.0.1:{server.dicom_port}/ORTHANC"]
    code, output = scan(*args)
    assert code == 0, output
    return valid(json.loads(output[: output.rindex("}") + 1]))


def valid(report: dict) -> dict:
    """The report and every resource in it match their published schemas."""
    assert not list(
        Draft202012Validator(load_schema("report"), registry=schema_registry()).iter_errors(report)
    )
    for resource in report["resources"]:
        kind = Draft202012Validator(load_schema(resource["kind"]), registry=schema_registry())
        assert not list(kind.iter_errors(resource)), resource["id"]
    return report


def _statuses(report, servers) -> dict[str, dict[str, str]]:
    which = {}
    for name, server in servers.items():
        which[server.dicomweb] = which[f"dicom://127.0.0.1:{server.dicom_port}"] = name
        # Configuration ids are relative to the scan root, the directory holding every server's.
        config = "/".join(server.config_file.parts[-2:])
        which[f"{config}#http"] = which[f"{config}#dicom"] = name
    out: dict[str, dict[str, str]] = {}
    for finding in report["findings"]:
        out.setdefault(finding["policy_id"], {})[which[finding["resource"]["id"]]] = finding["status"]
    return out


def test_each_probe_fails_and_passes_against_a_real_orthanc(servers):
    report = live_report(servers)
    found = _statuses(report, servers)
    errors = {r["id"]: r["_meta"]["errors"] for r in report["resources"] if r["_meta"]["errors"]}
    assert {p: found[p] for p in EXPECTED} == EXPECTED, errors


def test_probes_write_nothing_and_never_print_patient_values(servers):
    counts = {
        name: s.instance_count() if name in ("open", "protected") else None for name, s in servers.items()
    }
    counts["protected"] = servers["protected"].instance_count()
    header = dcmread(CT_SMALL, stop_before_pixels=True)
    values = [
        str(header.get(k))
        for k in (
            "PatientName",
            "PatientID",
            "InstitutionName",
            "PatientBirthDate",
            "ReferringPhysicianName",
            "AccessionNumber",
        )
    ]
    values = [v for v in values if v and v != "None"]
    assert "CompressedSamples^CT1" in values
    outputs = []
    for fmt in ("text", "json", "sarif"):
        args = ["dicomweb", "--format", fmt, "--probe-credentials", "--verbose", "--fail-on", "none"]
        for server in servers.values():
            args += [server.dicomweb, "--dimse", f"127.0.0.1:{server.dicom_port}"]
        outputs.append(scan(*args)[1])
    for output in outputs:
        for value in values:
            assert value not in output
        assert servers["protected"].credentials[1] not in output
    for name in ("open", "protected"):
        assert servers[name].instance_count() == counts[name], f"{name}: a probe stored something"


def test_an_orthanc_config_file_judges_like_the_server_it_starts(servers):
    """One policy, live and configuration: each server's own orthanc.json gives its live statuses."""
    live = live_statuses(servers)
    code, output = scan(
        "config", "--format", "json", "--fail-on", "none", *[str(s.config_file) for s in servers.values()]
    )
    assert code == 0, output
    configured = _statuses(valid(json.loads(output[: output.rindex("}") + 1])), servers)
    compared = 0
    for policy, by_server in live.items():
        if (
            policy in CONFIG_ONLY
            or policy == "dicomweb-valid-certificate"
            or policy.startswith("dicomweb-cors")
        ):
            continue  # not in a configuration file: certificates and CORS come from what is in front
        for name, status in by_server.items():
            assert configured[policy][name] == status, (policy, name)
            compared += 1
    assert compared >= 50
    assert {configured[p]["open"] for p in CONFIG_ONLY} == {"PASS"}


def test_dimse_without_the_called_ae_of_a_server_that_checks_it_is_unknown(servers):
    code, output = scan(
        "dicomweb", "--dimse", f"127.0.0.1:{servers['protected'].dicom_port}", "--format", "json", "--strict"
    )
    assert code == 3, output
    report = json.loads(output[: output.rindex("}") + 1])
    statuses = {f["policy_id"]: f["status"] for f in report["findings"]}
    assert statuses["dimse-called-ae-checked"] == "PASS"
    assert statuses["dimse-no-unknown-ae-query"] == "UNKNOWN"
    unknown = next(f for f in report["findings"] if f["policy_id"] == "dimse-no-unknown-ae-query")
    assert "HOST:PORT/AET" in unknown["evidence"][0]["message"]


def test_what_the_probes_saw_is_named_in_the_evidence(servers):
    code, output = scan("dicomweb", servers["open"].dicomweb, "--format", "json")
    assert code == 1
    report = json.loads(output[: output.rindex("}") + 1])
    (endpoint,) = report["resources"]
    assert endpoint["product"] == {"name": "orthanc", "version": "1.10.1", "version_disclosed": True}
    assert endpoint["access"]["observed"]["store"] == "POST /dicom-web/studies -> 415"
    search = next(f for f in report["findings"] if f["policy_id"] == "dicomweb-no-unauthenticated-search")
    assert "200 application/dicom+json (empty result)" in json.dumps(search["evidence"])


def test_stow_probe_can_be_turned_off(servers):
    code, output = scan("dicomweb", servers["open"].dicomweb, "--no-stow-probe", "--format", "json")
    assert code == 1
    report = json.loads(output[: output.rindex("}") + 1])
    statuses = {f["policy_id"]: f["status"] for f in report["findings"]}
    assert statuses["dicomweb-no-unauthenticated-store"] == "UNKNOWN"
    assert statuses["dicomweb-no-unauthenticated-search"] == "FAIL"
    assert "--no-stow-probe" in output


def test_cors_added_by_a_proxy_in_front_of_orthanc(servers):
    from http_fronts import cors_front

    any_origin, reflecting = (
        cors_front(servers["open"].url, "any"),
        cors_front(servers["open"].url, "reflect"),
    )
    try:
        urls = {
            f"http://127.0.0.1:{p.server_address[1]}/dicom-web": name
            for p, name in ((any_origin, "any"), (reflecting, "reflect"))
        }
        code, output = scan("dicomweb", *urls, "--format", "json", "--only", "dicomweb-cors-*")
        assert code == 1, output
        report = json.loads(output[: output.rindex("}") + 1])
        found = {(urls[f["resource"]["id"]], f["policy_id"]): f["status"] for f in report["findings"]}
        assert found == {
            ("any", "dicomweb-cors-no-any-origin"): "FAIL",
            ("any", "dicomweb-cors-no-credentialed-foreign-origin"): "PASS",
            ("reflect", "dicomweb-cors-no-any-origin"): "PASS",
            ("reflect", "dicomweb-cors-no-credentialed-foreign-origin"): "FAIL",
        }
    finally:
        any_origin.shutdown()
        reflecting.shutdown()
