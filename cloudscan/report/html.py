"""One self-contained HTML page of a scan, for a reader who does not run cloudscan (a privacy
officer the file was mailed to). It fetches nothing when opened: styles, script and charts are
inline, and a Content-Security-Policy allows only that style and that script (by their hashes),
so even an injected tag could neither run nor load anything. Everything essential is readable
without JavaScript; the script only filters. Every string from input is escaped (escape.py), and
the data the script reads is JSON in a <script type="application/json"> that no `</script>` in a
bucket name can end.

Sections: the estate at a glance, the imaging archives of patient data, what changed since a
baseline (when the result has one), HIPAA safeguards, findings, errors.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections import Counter
from functools import cache
from importlib.resources import files
from typing import Any, TextIO

from cloudscan import __version__
from cloudscan.report import html_archives, html_findings
from cloudscan.report.escape import html_text, script_json
from cloudscan.report.html_charts import bar_chart
from cloudscan.report.summary import summarise
from cloudscan.scan import ScanResult, error_count, read_something

# The safeguards policies cite, named as the HIPAA Security and Privacy Rules name them.
HIPAA = {
    "164.308(a)(1)(ii)(B)": "Risk management",
    "164.308(a)(4)": "Information access management",
    "164.308(a)(7)": "Contingency plan",
    "164.308(a)(7)(ii)(A)": "Data backup plan",
    "164.310(d)(2)(iv)": "Data backup and storage",
    "164.312(a)(1)": "Access control",
    "164.312(a)(2)(iv)": "Encryption and decryption",
    "164.312(b)": "Audit controls",
    "164.312(c)(1)": "Integrity",
    "164.312(d)": "Person or entity authentication",
    "164.312(e)(1)": "Transmission security",
    "164.312(e)(2)(ii)": "Encryption in transmission",
    "164.314(a)": "Business associate contracts",
    "164.502(a)": "Uses and disclosures: general rule",
}
TILES = (
    ("FAIL", "failed"),
    ("UNKNOWN", "could not be evaluated"),
    ("PASS", "passed"),
    ("MUTED", "muted"),
    ("NOT_APPLICABLE", "not applicable"),
)


@cache
def asset(name: str) -> str:
    return (files("cloudscan.report") / "assets" / name).read_text(encoding="utf-8")


def content_security_policy() -> str:
    """Nothing may be fetched, framed or submitted; only the page's own style and script apply."""
    return (
        f"default-src 'none'; style-src '{_sha256(asset('report.css'))}'; "
        f"script-src '{_sha256(asset('report.js'))}'; base-uri 'none'; form-action 'none'"
    )


def render(result: ScanResult) -> str:
    out = io.StringIO()
    write(result, out)
    return out.getvalue()


def write(result: ScanResult, stream: TextIO) -> None:
    baseline = getattr(result, "baseline", None)
    summary = summarise(result.findings, len(result.resources), error_count(result))
    rows = html_findings.listed(result.findings)
    dims = html_findings.dimensions(rows, with_change=baseline is not None)
    title = f"cloudscan report: {result.source} scan of {result.started_at[:10]}"
    stream.write(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html_text(title)}</title>\n<style>{asset('report.css')}</style></head>\n<body>\n"
    )
    stream.write(_header(result, title, baseline))
    stream.write("<main>\n")
    stream.write(_glance(result, summary) + "\n")
    stream.write(html_archives.section(result.resources) + "\n")
    if baseline is not None:
        stream.write(html_findings.changes_section(baseline, rows) + "\n")
    stream.write(_hipaa(result) + "\n")
    stream.write(html_findings.section(rows, result.policies, dims) + "\n")
    stream.write(_errors(result) + "\n")
    stream.write("</main>\n")
    stream.write(
        f"<footer><p>cloudscan {html_text(__version__)}. This page loads nothing from the network: "
        "its styles, charts and filters are inside the file.</p></footer>\n"
    )
    data = {
        "dims": {name: {"values": d["values"], "default": d["default"]} for name, d in dims.items()},
        "rows": html_findings.row_facts(rows),
    }
    stream.write(f'<script type="application/json" id="report-data">{script_json(data)}</script>\n')
    stream.write(f"<script>{asset('report.js')}</script>\n</body></html>\n")


def _header(result: ScanResult, title: str, baseline: Any) -> str:
    finished = result.finished_at or result.started_at
    sections = [("glance", "At a glance"), ("archives", "Imaging archives")]
    if baseline is not None:
        sections.append(("changes", "Changes"))
    sections += [("hipaa", "HIPAA"), ("findings", "Findings"), ("errors", "Errors")]
    nav = "".join(f'<a href="#{anchor}">{label}</a>' for anchor, label in sections)
    compared = ""
    if baseline is not None:
        compared = f" Compared with <code>{html_text(baseline.get('file') or 'a baseline')}</code>."
    return (
        f"<header><h1>{html_text(title)}</h1>"
        f"<p>Source <strong>{html_text(result.source)}</strong>, scanned from {html_text(result.started_at)} "
        f"to {html_text(finished)} with {len(result.policies)} policies.{compared}</p>"
        f'<nav aria-label="Sections">{nav}</nav></header>\n'
    )


def _glance(result: ScanResult, summary: dict[str, Any]) -> str:
    tiles = [_tile("resources", "", "resources scanned", summary["resources"])]
    tiles += [_tile(key, f"st-{key}", label, summary["results"][key]) for key, label in TILES]
    tiles.append(_tile("errors", "errors", "errors", summary["errors"]))
    failed = [f for f in result.findings if f["status"] == "FAIL"]
    by_severity = [(s, n, f"sev-{s}") for s, n in summary["failed_by_severity"].items()]
    categories = Counter(f["category"] for f in failed).most_common()
    providers = Counter(f["resource"]["provider"] for f in failed).most_common()
    scanned = Counter(r["provider"] for r in result.resources).most_common()
    kinds = Counter(r["kind"] for r in result.resources).most_common()
    charts = [
        ("chart-severity", "Failed results by severity", by_severity),
        ("chart-category", "Failed results by category", [(c, n, "cat") for c, n in categories]),
        ("chart-provider", "Failed results by provider", [(p, n, "prov") for p, n in providers]),
        ("chart-resources", "Resources scanned by provider", [(p, n, "res") for p, n in scanned]),
    ]
    figures = "".join(
        f"<figure><figcaption>{html_text(title)}</figcaption>{bar_chart(chart_id, title, bars)}</figure>"
        for chart_id, title, bars in charts
    )
    kinds_text = ", ".join(f"{n} {html_text(kind)}" for kind, n in kinds) or "none"
    return (
        '<section id="glance" aria-labelledby="glance-h"><h2 id="glance-h">At a glance</h2>'
        f'<dl class="tiles">{"".join(tiles)}</dl>'
        f'<div class="charts">{figures}</div>'
        f'<p class="kinds">Resources by kind: {kinds_text}.</p></section>'
    )


def _tile(key: str, css: str, label: str, count: int) -> str:
    return f'<div class="tile {css}" data-count="{key}"><dt>{label}</dt><dd>{count}</dd></div>'


def _hipaa(result: ScanResult) -> str:
    counts: dict[str, Counter[str]] = {}
    policies: dict[str, set[str]] = {}
    for policy in result.policies:
        for control in policy.meta.get("compliance", {}).get("hipaa", []):
            policies.setdefault(control, set()).add(policy.id)
            counts.setdefault(control, Counter())
    for finding in result.findings:
        for control in (finding.get("compliance") or {}).get("hipaa") or []:
            counts.setdefault(control, Counter())[finding["status"]] += 1
            policies.setdefault(control, set()).add(finding["policy_id"])
    columns = ("FAIL", "UNKNOWN", "PASS", "MUTED")
    rows = []
    for control in sorted(counts, key=_control_order):
        cells = "".join(
            f'<td class="st-{s}{"" if counts[control][s] else " zero"}">{counts[control][s]}</td>'
            for s in columns
        )
        rows.append(
            f'<tr data-safeguard="{html_text(control)}"><th scope="row">§{html_text(control)}</th>'
            f"<td>{html_text(HIPAA.get(control, ''))}</td><td>{len(policies[control])}</td>{cells}</tr>"
        )
    head = "".join(f'<th scope="col">{s}</th>' for s in columns)
    table = (
        '<table class="hipaa"><thead><tr><th scope="col">Safeguard</th><th scope="col">Requirement</th>'
        f'<th scope="col">Policies</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        if rows
        else '<p class="none">No policy of this scan cites a HIPAA safeguard.</p>'
    )
    return (
        '<section id="hipaa" aria-labelledby="hipaa-h"><h2 id="hipaa-h">HIPAA safeguards</h2>'
        "<p>Results of the policies that cite each safeguard of the HIPAA Security Rule (45 CFR 164.308 to "
        "164.314) and Privacy Rule (164.502). A passing policy is evidence for a safeguard, not proof "
        f"of compliance.</p>{table}</section>"
    )


def _errors(result: ScanResult) -> str:
    """Scan errors and resources cloudscan failed on (the errors counted at a glance), then the
    resources nothing could be read of, each said once with why (their results are UNKNOWN)."""
    errors = [_error(e.get("resource"), e) for e in result.errors]
    unread = []
    for resource in result.resources:
        failed = resource["_meta"]["errors"]
        errors += [_error(resource["id"], e) for e in failed if e.get("call") == "cloudscan:internal"]
        if failed and not read_something(resource):
            unread.append(_error(resource["id"], failed[0]))
    parts = ['<section id="errors" aria-labelledby="errors-h"><h2 id="errors-h">Errors</h2>']
    parts.append(f'<ul class="errors">{"".join(errors)}</ul>' if errors else '<p class="none">No errors.</p>')
    if unread:
        parts.append(f"<h3>Resources that could not be read ({len(unread)})</h3>")
        parts.append(f'<ul class="errors">{"".join(unread)}</ul>')
    parts.append("</section>")
    return "".join(parts)


def _error(where: object, error: dict[str, Any]) -> str:
    place = f"<code>{html_text(where)}</code>: " if where else ""
    return (
        f"<li>{place}<code>{html_text(error.get('call'))}</code> {html_text(error.get('code'))}: "
        f"{html_text(error.get('message'))}</li>"
    )


def _control_order(control: str) -> tuple[Any, ...]:
    """164.312(a)(2)(iv) after 164.312(a)(1), before 164.312(b)."""
    parts = control.replace(")", "").split("(")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in [*parts[0].split("."), *parts[1:]])


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
