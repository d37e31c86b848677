"""Reports for queues (jsonl), spreadsheets (csv), CI test reports (junit) and SIEMs (ocsf).

Each format is checked three ways: on the scan of every Terraform fixture (all five statuses and
scan errors), on a scan of Terraform whose names and strings are hostile, and on a result
compared with a baseline (findings new or unchanged, and findings that were resolved).
"""

import copy
import csv
import dataclasses
import io
import json
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from cloudscan.cli import cli
from cloudscan.cli.options import FORMATS
from cloudscan.model import schema_registry
from cloudscan.mutes import apply_mutes
from cloudscan.report import Format, csv_report, jsonl, junit, ocsf, render
from cloudscan.report.json_report import REPORT_VERSION
from cloudscan.scan import ScanResult, scan_terraform

ROOT = Path(__file__).resolve().parent.parent
JUNIT_XSD = Path(__file__).parent / "schemas" / "junit-cloudscan.xsd"

# Names a bucket can be given in Terraform: each would start a formula in a spreadsheet, forge a
# line, break XML or recolour a terminal if it were shown as it is.
HOSTILE_NAMES = {
    "formula": '=HYPERLINK("http://x","click")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "markup": "<script>alert(1)</script>]]>&amp;\x00\x1b[31mred\ud800\nFORGED LINE: all checks passed",
}
# A Terraform address itself can carry them (the resource's label in .tf.json).
HOSTILE_LABEL = "=cmd\x00<b>]]>\nFORGED"
HOSTILE_SID = "-1+1\x00]]><x/>\ud800\x1b[0m"


# -- the results the reports are written from ------------------------------------------------


@pytest.fixture(scope="module")
def fixtures_result(builtin_policies) -> ScanResult:
    """Every Terraform fixture, with relative paths as a CI job has them, and two mutes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        result = scan_terraform([Path("terraform-fixtures")], builtin_policies)
    mutes = [
        {
            "policy": "storage-versioning-enabled",
            "resource": "*",
            "reason": "write-once archive",
            "until": "2999-01-01",
        },
        {"policy": "storage-no-public-read", "resource": "*unresolved-variable*", "reason": "reviewed"},
    ]
    apply_mutes(result.findings, mutes, date(2026, 1, 1))
    statuses = Counter(f["status"] for f in result.findings)
    assert all(statuses[s] for s in ("FAIL", "UNKNOWN", "PASS", "NOT_APPLICABLE", "MUTED")), statuses
    assert result.errors  # broken-hcl
    return result


@pytest.fixture(scope="module")
def hostile_terraform(tmp_path_factory) -> Path:
    """Buckets named to attack every format, one under a hostile address, one with a public
    policy whose Sid is hostile (it shows as the origin of the evidence)."""
    directory = tmp_path_factory.mktemp("hostile")
    buckets = {key: {"bucket": name} for key, name in HOSTILE_NAMES.items()}
    buckets[HOSTILE_LABEL] = {"bucket": "labelled"}
    statement = {
        "Sid": HOSTILE_SID,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "*",
    }
    document = {
        "resource": {
            "aws_s3_bucket": buckets,
            "aws_s3_bucket_policy": {
                "markup": {
                    "bucket": "${aws_s3_bucket.markup.id}",
                    "policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
                }
            },
        }
    }
    (directory / "main.tf.json").write_text(json.dumps(document))
    return directory


@pytest.fixture(scope="module")
def hostile_result(builtin_policies, hostile_terraform) -> ScanResult:
    result = scan_terraform([hostile_terraform], builtin_policies)
    names = {f["resource"]["name"] for f in result.findings if f["status"] == "FAIL"}
    assert set(HOSTILE_NAMES.values()) <= names
    assert any(HOSTILE_LABEL in f["resource"]["id"] for f in result.findings if f["status"] == "FAIL")
    assert any(HOSTILE_SID in (e["origin"] or "") for f in result.findings for e in f["evidence"])
    return result


@pytest.fixture(scope="module")
def compared_result(fixtures_result) -> ScanResult:
    """The fixtures compared with a previous report (the baseline contract): every other failure
    is new, and two findings of the previous report no longer fail."""
    result = dataclasses.replace(fixtures_result, findings=copy.deepcopy(fixtures_result.findings))
    failing = [f for f in result.findings if f["status"] in ("FAIL", "UNKNOWN", "MUTED")]
    for index, finding in enumerate(failing):
        finding["change"] = "new" if index % 2 else "unchanged"
    gone = copy.deepcopy(failing[0])
    gone.pop("change")
    gone["fingerprint"] = "0" * 32
    gone["resource"]["id"] = "terraform-fixtures/removed/aws_s3_bucket.old_exports"
    fixed = copy.deepcopy(failing[1])
    fixed.pop("change")
    fixed["fingerprint"] = "1" * 32
    result.baseline = {
        "file": "previous-report.json",
        "counts": {"new": len(failing) // 2, "unchanged": len(failing) - len(failing) // 2, "resolved": 2},
        "resolved": [gone, fixed],
    }
    return result


def statuses(result: ScanResult) -> Counter:
    return Counter(f["status"] for f in result.findings)


# -- jsonl -------------------------------------------------------------------------------------


def jsonl_lines(result: ScanResult) -> list[dict]:
    text = jsonl.render(result)
    assert text.endswith("\n") and text.isascii()
    return [json.loads(line) for line in text.split("\n")[:-1]]


def test_jsonl_is_one_finding_a_line_each_enough_on_its_own(fixtures_result):
    lines = jsonl_lines(fixtures_result)
    assert [line["fingerprint"] for line in lines] == [f["fingerprint"] for f in fixtures_result.findings]
    finding_schema = Draft202012Validator(
        {"$ref": "https://cloudscan.dev/schemas/report.json#/$defs/finding"}, registry=schema_registry()
    )
    for line in lines:
        assert line["report_version"] == REPORT_VERSION
        assert line["change"] is None  # no baseline
        assert line["scan"]["source"] == "terraform"
        assert line["scan"]["started_at"] == fixtures_result.started_at
        assert line["scan"]["tool"]["name"] == "cloudscan" and line["scan"]["tool"]["version"]
        finding = {k: v for k, v in line.items() if k not in ("report_version", "change", "scan")}
        assert not list(finding_schema.iter_errors(finding))  # the JSON report's finding, unchanged


def test_jsonl_hostile_strings_stay_inside_their_line(hostile_result):
    lines = jsonl_lines(hostile_result)
    assert len(lines) == len(hostile_result.findings)  # no newline split a line
    names = {line["resource"]["name"] for line in lines}
    assert set(HOSTILE_NAMES.values()) <= names  # data, kept exactly, as the JSON report keeps it


def test_jsonl_with_a_baseline_adds_resolved_lines(compared_result):
    lines = jsonl_lines(compared_result)
    assert len(lines) == len(compared_result.findings) + 2
    changes = Counter(line["change"] for line in lines)
    failing = sum(statuses(compared_result)[s] for s in ("FAIL", "UNKNOWN", "MUTED"))
    assert changes["new"] + changes["unchanged"] == failing and changes["resolved"] == 2
    resolved = [line for line in lines if line["change"] == "resolved"]
    assert {line["fingerprint"] for line in resolved} == {"0" * 32, "1" * 32}
    assert all(line["scan"]["baseline"] == "previous-report.json" for line in lines)


# -- csv ---------------------------------------------------------------------------------------


def csv_rows(result: ScanResult) -> list[dict]:
    text = csv_report.render(result)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == csv_report.COLUMNS
    return list(reader)


def test_csv_is_one_row_per_finding(fixtures_result):
    rows = csv_rows(fixtures_result)
    assert len(rows) == len(fixtures_result.findings)
    by_fingerprint = {row["fingerprint"]: row for row in rows}
    (finding,) = [
        f
        for f in fixtures_result.findings
        if f["policy_id"] == "dicom-store-no-public-access"
        and f["resource"]["id"].endswith("google_healthcare_dicom_store.research")
    ]
    row = by_fingerprint[finding["fingerprint"]]
    assert row == {
        "fingerprint": finding["fingerprint"],
        "status": "FAIL",
        "change": "",
        "severity": "critical",
        "policy_id": "dicom-store-no-public-access",
        "title": finding["title"],
        "provider": "gcp",
        "kind": "dicom.store",
        "resource_id": "terraform-fixtures/dicom-stores/google_healthcare_dicom_store.research",
        "resource_name": "research-pacs",
        "account": "radiology-prod",
        "region": "",
        "file": "terraform-fixtures/dicom-stores/main.tf",
        "line": "13",
        "evidence": "Anyone on the internet can search and retrieve studies from this DICOM store.",
        "remediation": finding["remediation"]["text"],
        "hipaa": "164.312(a)(1) 164.312(d)",
    }


# What each hostile name becomes in its cell: escaped like any shown input, then quoted when it
# would still start a formula.
CELLS = {
    "formula": '\'=HYPERLINK("http://x","click")',
    "plus": "'+cmd|' /C calc'!A0",
    "minus": "'-2+3",
    "at": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\\x09=1+1",
    "cr": "\\x0d=1+1",
    "markup": "<script>alert(1)</script>]]>&amp;\\x00\\x1b[31mred\\ud800\\x0aFORGED LINE: all checks passed",
}


@pytest.mark.parametrize("key", sorted(HOSTILE_NAMES))
def test_csv_a_hostile_name_is_a_cell_no_spreadsheet_runs(hostile_result, key):
    rows = csv_rows(hostile_result)
    assert CELLS[key] in {row["resource_name"] for row in rows}


def test_csv_no_cell_starts_a_formula_or_a_line(hostile_result, tmp_path):
    text = csv_report.render(hostile_result)
    rows = csv_rows(hostile_result)
    assert len(rows) == len(hostile_result.findings)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r", "\n")), value
    assert "\x00" not in text and "\x1b" not in text
    assert not any(line.startswith("FORGED") for line in text.splitlines())
    assert any(row["resource_id"].endswith("aws_s3_bucket.=cmd\\x00<b>]]>\\x0aFORGED") for row in rows)
    (tmp_path / "report.csv").write_text(text, encoding="utf-8")  # a lone surrogate could not be


def test_csv_with_a_baseline_says_what_changed(compared_result):
    rows = csv_rows(compared_result)
    changes = Counter(row["change"] for row in rows)
    assert changes["resolved"] == 2 and changes["new"] and changes["unchanged"]
    assert changes[""] == sum(statuses(compared_result)[s] for s in ("PASS", "NOT_APPLICABLE"))


# -- junit -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_schema():
    import xmlschema

    return xmlschema.XMLSchema11(str(JUNIT_XSD))


def junit_document(result: ScanResult, schema) -> ET.Element:
    text = junit.render(result)
    assert text.isascii()
    schema.validate(text)
    return ET.fromstring(text)


def test_junit_is_a_suite_per_policy_and_a_test_per_resource(fixtures_result, junit_schema):
    root = junit_document(fixtures_result, junit_schema)
    counts = statuses(fixtures_result)
    errors = len(fixtures_result.errors)
    assert int(root.get("tests")) == len(fixtures_result.findings) + errors
    assert int(root.get("failures")) == counts["FAIL"]
    assert int(root.get("errors")) == counts["UNKNOWN"] + errors
    assert int(root.get("skipped")) == counts["NOT_APPLICABLE"] + counts["MUTED"]
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {f["policy_id"] for f in fixtures_result.findings} | {"scan-errors"}
    suite = suites["storage-no-public-read"]
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["severity"] == "critical" and properties["category"] == "public-exposure"
    case = next(
        c
        for c in suite.iter("testcase")
        if c.get("name") == "terraform-fixtures/public-pacs-export/aws_s3_bucket.exports"
    )
    assert case.get("classname") == "cloudscan.public-exposure.storage-no-public-read"
    assert case.get("file") == "terraform-fixtures/public-pacs-export/main.tf" and int(case.get("line")) >= 1
    failure = case.find("failure")
    assert failure.get("message") == "Anyone on the internet can read objects in this bucket."
    assert "fix: " in failure.text and "resource: aws_s3_bucket.exports" in failure.text


def test_junit_unknown_is_an_error_and_muted_is_skipped(fixtures_result, junit_schema):
    root = junit_document(fixtures_result, junit_schema)
    by_test = {(c.get("classname").rsplit(".", 1)[-1], c.get("name")): c for c in root.iter("testcase")}
    for finding in fixtures_result.findings:
        case = by_test[(finding["policy_id"], finding["resource"]["id"])]
        outcome = [child.tag for child in case]
        expected = {"FAIL": ["failure"], "UNKNOWN": ["error"], "PASS": [], "NOT_APPLICABLE": ["skipped"]}
        assert outcome == expected.get(finding["status"], ["skipped"]), finding["status"]
        if finding["status"] == "UNKNOWN":
            assert case.find("error").get("message").startswith("could not evaluate")
        if finding["status"] == "MUTED":
            assert case.find("skipped").get("message").startswith("muted")
    unread = [c for c in root.iter("testcase") if c.get("classname") == "cloudscan.scan-errors"]
    assert "terraform-fixtures/broken-hcl/broken.tf:3" in {c.get("name") for c in unread}


def test_junit_reads_in_junitparser(fixtures_result):
    from junitparser import Error, Failure, JUnitXml, Skipped

    report = JUnitXml.fromstring(junit.render(fixtures_result))
    kinds = {Failure: "failure", Error: "error", Skipped: "skipped"}
    outcomes = Counter(
        next((kinds[type(r)] for r in case.result), "pass") for suite in report for case in suite
    )
    counts = statuses(fixtures_result)
    assert outcomes["failure"] == counts["FAIL"]
    assert outcomes["error"] == counts["UNKNOWN"] + len(fixtures_result.errors)
    assert outcomes["pass"] == counts["PASS"]


def test_junit_hostile_strings_make_well_formed_xml(hostile_result, junit_schema):
    root = junit_document(hostile_result, junit_schema)
    names = {c.get("name") for c in root.iter("testcase")}
    assert any(n.endswith("aws_s3_bucket.=cmd\\x00<b>]]>\\x0aFORGED") for n in names)
    details = "\n".join(e.text or "" for e in root.iter() if e.tag in ("failure", "error"))
    assert "<script>alert(1)</script>]]>&amp;\\x00\\x1b[31mred\\ud800\\x0aFORGED LINE" in details
    assert "(Sid -1+1\\x00]]><x/>\\ud800\\x1b[0m)" in details
    assert not any(line.startswith("FORGED") for line in details.splitlines())


@pytest.mark.parametrize(
    "text", ["\x00", "\x1b[31m", "\ud800", "\udfff", "]]>", "\ufffe", "\uffff", "a\u202eb"]
)
def test_junit_text_is_what_xml_can_hold(text):
    shown = junit.xml_text(text)
    element = ET.Element("testcase", name=shown)
    element.text = shown
    parsed = ET.fromstring(ET.tostring(element, encoding="us-ascii"))
    assert parsed.get("name") == parsed.text == shown


def test_junit_with_a_baseline_says_which_failures_are_new(compared_result, junit_schema):
    root = junit_document(compared_result, junit_schema)
    texts = [e.text for e in root.iter() if e.tag in ("failure", "error")]
    assert any("change: new since the baseline previous-report.json" in t for t in texts)
    assert any("change: unchanged since the baseline" in t for t in texts)
    # Resolved findings are no tests: the same tests as without a baseline.
    assert int(root.get("tests")) == len(compared_result.findings) + len(compared_result.errors)


# -- ocsf --------------------------------------------------------------------------------------

# OCSF 1.5.0 account types (objects/account.json) that cloudscan writes. py-ocsf-models 0.10.0
# knows AWS Account (10) but not GCP Project (11) nor Azure Subscription (13): those are checked
# here, and the rest of the event through the model.
OCSF_ACCOUNT_TYPES = {
    "AWS": (10, "AWS Account"),
    "GCP": (11, "GCP Project"),
    "Azure": (13, "Azure Subscription"),
}


def validated(event: dict) -> None:
    """Through py-ocsf-models' DetectionFinding: what the model cannot read fails, and so does
    any field the model does not define (it would be dropped: the dump must give the event back)."""
    from py_ocsf_models import OCSF_VERSION
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    assert OCSF_VERSION == ocsf.OCSF_VERSION == event["metadata"]["version"]
    checked = copy.deepcopy(event)
    if "cloud" in checked:
        account = checked["cloud"].get("account")
        if account:
            assert (account["type_id"], account["type"]) == OCSF_ACCOUNT_TYPES[checked["cloud"]["provider"]]
            if account["type_id"] != 10:
                account["type_id"] = 99  # Other: the model's enum stops at 10
        assert checked["metadata"]["profiles"] == ["cloud"]
    model = DetectionFinding.model_validate(checked)
    assert model.model_dump(mode="json", exclude_none=True) == checked


def ocsf_events(result: ScanResult) -> list[dict]:
    text = ocsf.render(result)
    assert text.isascii() and text.startswith("[\n") and text.endswith("\n]\n")
    events = json.loads(text)
    assert len(text.splitlines()) == len(events) + 2  # one event a line
    for event in events:
        validated(event)
    return events


def test_ocsf_is_a_detection_finding_per_failed_unknown_or_muted_result(fixtures_result):
    events = ocsf_events(fixtures_result)
    counts = statuses(fixtures_result)
    assert len(events) == counts["FAIL"] + counts["UNKNOWN"] + counts["MUTED"]  # PASS is no detection
    assert Counter(e["status_code"] for e in events) == {s: counts[s] for s in ("FAIL", "UNKNOWN", "MUTED")}
    assert {(e["class_uid"], e["category_uid"], e["activity_id"], e["type_uid"]) for e in events} == {
        (2004, 2, 1, 200401)
    }
    assert {(e["status_code"], e["status_id"]) for e in events} == {("FAIL", 1), ("UNKNOWN", 1), ("MUTED", 3)}
    findings = {f["fingerprint"]: f for f in fixtures_result.findings}
    for event in events:
        finding = findings[event["finding_info"]["uid"]]
        severity = {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1}[finding["severity"]]
        assert event["severity_id"] == severity
        assert event["finding_info"]["analytic"]["uid"] == finding["policy_id"]
        assert event["resources"][0]["uid"] == finding["resource"]["id"]
        assert event["unmapped"]["compliance"] == finding["compliance"]


def test_ocsf_cloud_and_account(fixtures_result):
    events = ocsf_events(fixtures_result)
    (store,) = [
        e
        for e in events
        if e["resources"][0]["uid"].endswith("google_healthcare_dicom_store.research")
        and e["metadata"]["event_code"] == "dicom-store-no-public-access"
    ]
    assert store["cloud"] == {
        "provider": "GCP",
        "account": {"uid": "radiology-prod", "name": "radiology-prod", "type_id": 11, "type": "GCP Project"},
    }
    assert store["resources"][0]["type"] == "dicom.store"
    assert store["unmapped"]["compliance"] == {"hipaa": ["164.312(a)(1)", "164.312(d)"]}
    assert store["remediation"]["desc"].startswith("Remove IAM bindings for allUsers")
    assert set(store["unmapped"]["remediation"]) == {"console", "cli", "terraform"}  # GCP's steps only
    # An Orthanc configuration is no cloud's: no cloud object, no cloud profile.
    orthanc = [e for e in events if e["resources"][0]["data"]["provider"] == "orthanc"]
    assert orthanc and all("cloud" not in e and "profiles" not in e["metadata"] for e in orthanc)


def test_ocsf_model_refuses_what_is_not_ocsf(fixtures_result):
    """The check itself: a field OCSF's Detection Finding does not have, or a wrong type, fails."""
    (event, *_) = ocsf_events(fixtures_result)
    with pytest.raises(AssertionError):
        validated({**event, "compliance": {"requirements": ["164.312(a)(1)"]}})
    with pytest.raises(Exception, match="severity_id"):
        validated({**event, "severity_id": 7})
    with pytest.raises(Exception, match="finding_info"):
        validated({k: v for k, v in event.items() if k != "finding_info"})


def test_ocsf_hostile_strings_stay_data(hostile_result):
    events = ocsf_events(hostile_result)
    names = {e["resources"][0].get("name") for e in events}
    assert set(HOSTILE_NAMES.values()) <= names


def test_ocsf_with_a_baseline_closes_resolved_findings(compared_result):
    events = ocsf_events(compared_result)
    closed = [e for e in events if e["activity_id"] == 3]
    assert {e["finding_info"]["uid"] for e in closed} == {"0" * 32, "1" * 32}
    assert {(e["type_uid"], e["status_id"], e["status"]) for e in closed} == {(200403, 4, "Resolved")}
    assert all("previous-report.json" in e["status_detail"] for e in closed)
    opened = Counter(e["unmapped"].get("change") for e in events if e["activity_id"] == 1)
    assert set(opened) == {"new", "unchanged"}


# -- every format --------------------------------------------------------------------------------


def test_the_command_line_offers_every_format():
    assert tuple(Format) == FORMATS


# How a consumer of each format reads it, at the least.
READS = {
    "jsonl": lambda text: all(json.loads(line)["policy_id"] for line in text.splitlines()),
    "csv": lambda text: next(csv.reader(io.StringIO(text))) == list(csv_report.COLUMNS),
    "junit": lambda text: ET.fromstring(text).tag == "testsuites",
    "ocsf": lambda text: all(event["class_uid"] == 2004 for event in json.loads(text)),
}


@pytest.mark.parametrize("fmt", sorted(READS))
def test_scan_writes_each_new_format(fmt, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    output = tmp_path / f"report.{fmt}"
    args = ["scan", "terraform", "terraform-fixtures/public-pacs-export", "--fail-on", "none"]
    result = CliRunner().invoke(cli, [*args, "--format", fmt, "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert READS[fmt](output.read_text(encoding="utf-8"))


@pytest.mark.parametrize("fmt", [f.value for f in Format])
def test_hostile_names_never_stop_a_report_from_being_written(fmt, hostile_terraform, tmp_path):
    """A lone surrogate in a bucket name once made the text report an internal error (exit 4):
    no encoder can write one."""
    output = tmp_path / "report"
    args = ["scan", "terraform", str(hostile_terraform), "--fail-on", "none", "-o", str(output)]
    result = CliRunner().invoke(cli, [*args, "--format", fmt])
    assert result.exit_code == 0, (result.output, result.exception)
    assert output.read_text(encoding="utf-8")


def test_a_result_without_findings(builtin_policies, junit_schema):
    empty = ScanResult(source="terraform", policies=builtin_policies)
    assert jsonl.render(empty) == ""
    assert csv_report.render(empty) == ",".join(csv_report.COLUMNS) + "\r\n"
    assert ocsf_events(empty) == []
    assert junit_document(empty, junit_schema).get("tests") == "0"
    assert all(render(fmt, empty) for fmt in Format if fmt is not Format.JSONL)
