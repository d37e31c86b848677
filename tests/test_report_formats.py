"""Reports for queues (jsonl), spreadsheets (csv) and CI test reports (junit).

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
from cloudscan.report import Format, csv_report, jsonl, junit, render
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


# -- every format --------------------------------------------------------------------------------


def test_the_command_line_offers_every_format():
    assert tuple(Format) == FORMATS


# How a consumer of each format reads it, at the least.
READS = {
    "jsonl": lambda text: all(json.loads(line)["policy_id"] for line in text.splitlines()),
    "csv": lambda text: next(csv.reader(io.StringIO(text))) == list(csv_report.COLUMNS),
    "junit": lambda text: ET.fromstring(text).tag == "testsuites",
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
    assert junit_document(empty, junit_schema).get("tests") == "0"
    assert all(render(fmt, empty) for fmt in Format if fmt is not Format.JSONL)
