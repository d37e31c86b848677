"""JUnit XML for the test reports of CI systems (Jenkins, GitLab, GitHub test-report actions).

One <testsuite> per policy, one <testcase> per resource it judged:

- A suite is one rule, so a red suite names what is wrong and its counts say on how many
  resources; suites per category would mix rules, and a test's name would have to carry both.
  The category is not lost: `classname` is cloudscan.CATEGORY.POLICY, which Jenkins shows as
  package CATEGORY and class POLICY.
- The test's name is the resource id (a Terraform resource's id is its directory and address),
  with no line number in it: CI systems follow a test across runs by name, so a FAIL that
  becomes PASS shows as fixed, and a new FAIL as a new failure.
- FAIL is <failure> (message: the first evidence; text: every evidence, its reasons and the fix).
  UNKNOWN is <error>: the rule could not be judged. Every reporter shows an error in red beside
  failures and counts it, where <skipped> is shown grey and read as fine; a scan that could not
  read a bucket's policy must not look green. MUTED and NOT_APPLICABLE are <skipped> with why.
  PASS is a test that passed.
- Scan errors (a file that could not be read, a region that failed) are <error> tests of one
  more suite, `scan-errors`: an input nobody judged is never a silent green.
- With a baseline, a finding's text says whether it is new. Resolved findings are not tests:
  the resource that now passes is already a passing test of the same name (CI shows it fixed),
  and one that is gone has nothing left to test.

Every string from input is shown escaped (escape.py: no control character, capped), and what XML
1.0 cannot hold at all (lone surrogates, U+FFFE, U+FFFF) is written as \\uXXXX; the document is
ASCII, anything else as character references, so it stays well-formed whatever the names hold.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from itertools import groupby
from typing import Any, TextIO

from cloudscan.report.changes import baseline, change
from cloudscan.report.escape import escape
from cloudscan.scan import ScanResult

MAX_REASONS = 5
ERRORS_SUITE = "scan-errors"
# Characters XML 1.0 allows (its production Char), as a class of what it does not.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(result: ScanResult) -> str:
    out = io.StringIO()
    write(result, out)
    return out.getvalue()


def write(result: ScanResult, stream: TextIO) -> None:
    root = _document(result)
    ET.indent(root)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(root, encoding="us-ascii").decode("ascii"))
    stream.write("\n")


def xml_text(value: object) -> str:
    """An input string as XML can hold it: escaped like any shown input, then what XML 1.0
    forbids (lone surrogates, U+FFFE, U+FFFF) written as \\uXXXX."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", escape(value))


def _document(result: ScanResult) -> ET.Element:
    order = {p.id: i for i, p in enumerate(result.policies)}
    findings = sorted(
        result.findings,
        key=lambda f: (order.get(f["policy_id"], len(order)), f["policy_id"], f["resource"]["id"]),
    )
    root = ET.Element("testsuites", name="cloudscan")
    timestamp = result.started_at
    for _, group in groupby(findings, key=lambda f: f["policy_id"]):
        root.append(_suite(list(group), timestamp, baseline(result)))
    if result.errors:
        root.append(_errors_suite(result.errors, timestamp))
    for attribute in ("tests", "failures", "errors", "skipped"):
        root.set(attribute, str(sum(int(s.get(attribute) or 0) for s in root.findall("testsuite"))))
    root.set("time", _duration(result))
    root.set("timestamp", timestamp)
    return root


def _suite(findings: list[dict[str, Any]], timestamp: str, compared: dict[str, Any] | None) -> ET.Element:
    first = findings[0]
    suite = ET.Element("testsuite", name=xml_text(first["policy_id"]))
    properties = ET.SubElement(suite, "properties")
    hipaa = " ".join((first.get("compliance") or {}).get("hipaa") or [])
    for name, value in (
        ("title", first["title"]),
        ("severity", first["severity"]),
        ("category", first["category"]),
        ("hipaa", hipaa),
    ):
        if value:
            ET.SubElement(properties, "property", name=name, value=xml_text(value))
    classname = xml_text(f"cloudscan.{first['category']}.{first['policy_id']}")
    for finding in findings:
        suite.append(_case(finding, classname, compared))
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    for outcome, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        suite.set(attribute, str(sum(case.find(outcome) is not None for case in cases)))
    suite.set("time", "0")
    suite.set("timestamp", timestamp)
    return suite


def _case(finding: dict[str, Any], classname: str, compared: dict[str, Any] | None) -> ET.Element:
    resource = finding["resource"]
    source = resource.get("source") or {}
    case = ET.Element("testcase", name=xml_text(resource["id"]), classname=classname, time="0")
    if source.get("file"):
        case.set("file", xml_text(source["file"]))
        if isinstance(source.get("line_start"), int):
            case.set("line", str(source["line_start"]))
    status = finding["status"]
    messages = [e["message"] for e in finding.get("evidence") or []]
    if status == "FAIL":
        ET.SubElement(
            case, "failure", message=xml_text(messages[0] if messages else finding["title"]), type="FAIL"
        ).text = _details(finding, compared, fix=True)
    elif status == "UNKNOWN":
        message = messages[0] if messages else "could not be evaluated"
        ET.SubElement(case, "error", message=xml_text(message), type="UNKNOWN").text = _details(
            finding, compared, fix=False
        )
    elif status == "MUTED":
        suppression = finding.get("suppression") or {}
        until = f" until {suppression['until']}" if suppression.get("until") else ""
        reason = f"muted{until}: {suppression.get('reason') or ''}"
        ET.SubElement(case, "skipped", message=xml_text(reason))
    elif status == "NOT_APPLICABLE":
        ET.SubElement(case, "skipped", message="not applicable to this resource")
    return case


def _details(finding: dict[str, Any], compared: dict[str, Any] | None, *, fix: bool) -> str:
    """The text of a failure or error: what, where, why (with reasons) and the fix, a line each."""
    resource = finding["resource"]
    source = resource.get("source") or {}
    lines = [f"{finding['severity']} {finding['policy_id']}: {finding['title']}"]
    where = source.get("address") or resource["id"]
    if resource.get("name") and resource["name"] not in where:
        where = f"{where} named {resource['name']}"
    if source.get("file"):
        line = f":{source['line_start']}" if source.get("line_start") else ""
        where = f"{where} ({source['file']}{line})"
    lines.append(f"resource: {where}")
    if change(finding) is not None and compared is not None:
        lines.append(f"change: {change(finding)} since the baseline {compared.get('file')}")
    for item in finding.get("evidence") or []:
        origin = f" [{item['origin']}]" if item.get("origin") else ""
        lines.append(f"{item['message']}{origin}")
        lines += [f"  {r.get('origin')}: {r.get('detail')}" for r in item.get("reasons", [])[:MAX_REASONS]]
    if fix:
        lines.append(f"fix: {(finding.get('remediation') or {}).get('text', '')}")
    return "\n".join(xml_text(line) for line in dict.fromkeys(lines))


def _errors_suite(errors: list[dict[str, Any]], timestamp: str) -> ET.Element:
    suite = ET.Element("testsuite", name=ERRORS_SUITE)
    seen: Counter[str] = Counter()
    for error in errors:
        where = xml_text(error.get("resource") or error.get("call") or "scan")
        seen[where] += 1
        name = where if seen[where] == 1 else f"{where} ({seen[where]})"  # names stay unique
        case = ET.SubElement(suite, "testcase", name=name, classname=f"cloudscan.{ERRORS_SUITE}", time="0")
        message = f"{error.get('call')} {error.get('code')}: {error.get('message')}"
        ET.SubElement(
            case, "error", message=xml_text(message), type=xml_text(error.get("code"))
        ).text = xml_text(message)
    count = str(len(errors))
    for attribute, value in (("tests", count), ("failures", "0"), ("errors", count), ("skipped", "0")):
        suite.set(attribute, value)
    suite.set("time", "0")
    suite.set("timestamp", timestamp)
    return suite


def _duration(result: ScanResult) -> str:
    try:
        started = datetime.fromisoformat(result.started_at)
        finished = datetime.fromisoformat(result.finished_at or result.started_at)
    except ValueError:
        return "0"
    return f"{max((finished - started).total_seconds(), 0.0):.3f}"
