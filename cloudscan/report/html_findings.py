"""The findings of an HTML report, one article per policy (FAIL and UNKNOWN first, by severity)
with a row per resource and the fix said once; and what changed since a baseline."""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from typing import Any

from cloudscan.policyset import SEVERITIES, Policy
from cloudscan.report.escape import html_lines, html_text
from cloudscan.report.html_archives import PROVIDERS, where

STATUSES = ("FAIL", "UNKNOWN", "MUTED", "PASS")  # NOT_APPLICABLE results are counted, not listed
SHOWN_BY_DEFAULT = ("FAIL", "UNKNOWN", "MUTED")
CHANGES = ("new", "unchanged", "")
HOW = (("console", "Console"), ("cli", "CLI"), ("terraform", "Terraform"), ("config", "Configuration"))
MAX_REASONS = 5


def listed(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings a page lists, in its order: by policy (policies with a FAIL or UNKNOWN result
    first, then by severity), then by status and resource."""

    def policy_rank(group: list[dict[str, Any]]) -> tuple[int, int, str]:
        statuses = {f["status"] for f in group}
        first = 0 if statuses & {"FAIL", "UNKNOWN"} else 1 if "MUTED" in statuses else 2
        return first, _severity_index(group[0]["severity"]), group[0]["policy_id"]

    shown = [f for f in findings if f["status"] in STATUSES]
    by_policy: dict[str, list[dict[str, Any]]] = {}
    for finding in shown:
        by_policy.setdefault(finding["policy_id"], []).append(finding)
    out: list[dict[str, Any]] = []
    for group in sorted(by_policy.values(), key=policy_rank):
        out += sorted(group, key=lambda f: (STATUSES.index(f["status"]), _label(f["resource"])))
    return out


def row_facts(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What the filters need of each row (the page's JSON): its values and the text searched."""
    return [
        {
            "severity": f["severity"],
            "status": f["status"],
            "provider": f["resource"]["provider"],
            "change": f.get("change") or "",
            "text": " ".join(
                str(v)
                for v in (f["resource"].get("name"), f["resource"]["id"], f["policy_id"], f["title"])
                if v
            ).lower(),
        }
        for f in rows
    ]


def dimensions(rows: list[dict[str, Any]], with_change: bool) -> dict[str, dict[str, Any]]:
    """The filters: each value with its count, and the values selected when the page opens."""
    facts = row_facts(rows)

    def dimension(name: str, order: tuple[str, ...], default: tuple[str, ...] = ()) -> dict[str, Any]:
        counts = Counter(f[name] for f in facts)
        values = [v for v in order if v in counts] + sorted(v for v in counts if v not in order)
        chosen = [v for v in values if not default or v in default]
        return {"values": values, "counts": counts, "default": chosen}

    dims = {
        "severity": dimension("severity", SEVERITIES),
        "status": dimension("status", STATUSES, SHOWN_BY_DEFAULT),
        "provider": dimension("provider", tuple(PROVIDERS)),
    }
    if with_change:
        dims["change"] = dimension("change", CHANGES)
    return dims


def filters_form(dims: dict[str, dict[str, Any]]) -> str:
    """Checkboxes for each filter; hidden until the script shows it (without a script it would do nothing)."""
    parts = ['<form id="filters" class="filters" hidden>']
    for name, dim in dims.items():
        parts.append(f"<fieldset><legend>{html_text(name.capitalize())}</legend>")
        for value in dim["values"]:
            checked = " checked" if value in dim["default"] else ""
            shown = PROVIDERS.get(value, value) if name == "provider" else value or "not compared"
            parts.append(
                f'<label><input type="checkbox" name="{name}" value="{html_text(value)}"{checked}> '
                f'{html_text(shown)} <span class="n">{dim["counts"][value]}</span></label>'
            )
        parts.append("</fieldset>")
    parts.append(
        '<fieldset><legend>Resource or policy</legend><input type="search" name="q" '
        'aria-label="Resource or policy contains" placeholder="name, id or policy"></fieldset>'
        '<button type="button" id="show-all">Show all</button></form>'
    )
    return "".join(parts)


def section(rows: list[dict[str, Any]], policies: list[Policy], dims: dict[str, dict[str, Any]]) -> str:
    described = {p.id: p.meta.get("description", "") for p in policies}
    parts = [
        '<section id="findings" aria-labelledby="findings-h">',
        '<h2 id="findings-h">Findings</h2>',
        filters_form(dims),
        '<p id="shown" role="status">Results that failed, could not be evaluated or are muted are listed; '
        "passed results are counted in each policy's line.</p>",
        '<noscript><p class="note">Filters need JavaScript; everything that failed is listed below.'
        "</p></noscript>",
        '<p id="no-match" class="none" hidden>No result matches these filters.</p>',
    ]
    index = 0
    for policy_id, group in groupby(rows, key=lambda f: f["policy_id"]):
        findings = list(group)
        parts.append(_policy(findings, index, described.get(policy_id, "")))
        index += len(findings)
    parts.append("</section>")
    return "\n".join(parts)


def _policy(findings: list[dict[str, Any]], first_row: int, description: str) -> str:
    head = findings[0]
    severity = head["severity"]
    counts = Counter(f["status"] for f in findings)
    visible = any(f["status"] in SHOWN_BY_DEFAULT for f in findings)
    hipaa = (head.get("compliance") or {}).get("hipaa") or []
    meta = [f"<code>{html_text(head['policy_id'])}</code>", html_text(head["category"])]
    if hipaa:
        meta.append("HIPAA " + ", ".join(f"§{html_text(c)}" for c in hipaa))
    meta.append(", ".join(f'<span class="st-{s}">{counts[s]} {s}</span>' for s in STATUSES if counts[s]))
    rows = "".join(_row(f, first_row + i) for i, f in enumerate(findings))
    failing = [f for f in findings if f["status"] != "PASS"]
    return (
        f'<article class="policy sev-{html_text(severity)}"{"" if visible else " hidden"}>'
        f'<h3><span class="sev sev-{html_text(severity)}">{html_text(severity)}</span> '
        f"{html_text(head['title'])}</h3>"
        f'<p class="meta">{" · ".join(meta)}</p>'
        + (f'<p class="description">{html_text(description)}</p>' if description else "")
        + '<table class="rows"><thead><tr><th scope="col">Result</th><th scope="col">Resource</th>'
        f'<th scope="col">Evidence</th></tr></thead><tbody>{rows}</tbody></table>'
        + (_fix(head, {f["resource"]["provider"] for f in failing}) if failing else "")
        + "</article>"
    )


def _row(finding: dict[str, Any], index: int) -> str:
    resource = finding["resource"]
    status = finding["status"]
    change = finding.get("change")
    badge = f' <span class="change ch-{html_text(change)}">{html_text(change)}</span>' if change else ""
    return (
        f'<tr id="r{index}" class="finding" data-severity="{html_text(finding["severity"])}" '
        f'data-status="{html_text(status)}" data-provider="{html_text(resource["provider"])}"'
        f"{'' if status in SHOWN_BY_DEFAULT else ' hidden'}>"
        f'<td><span class="status st-{html_text(status)}">{html_text(status)}</span>{badge}</td>'
        f"<td>{resource_cell(resource)}</td><td>{_evidence(finding)}</td></tr>"
    )


def resource_cell(resource: dict[str, Any]) -> str:
    name = resource.get("name") or resource["id"]
    provider = PROVIDERS.get(resource["provider"], resource["provider"])
    shown = f'<strong class="name">{html_text(name)}</strong>'
    if resource["id"] != name:
        shown += f'<br><code class="id">{html_text(resource["id"])}</code>'
    return shown + f'<br><span class="where">{html_text(provider)}{where(resource)}</span>'


def _evidence(finding: dict[str, Any]) -> str:
    items = []
    for item in finding.get("evidence") or []:
        origin = f' <span class="origin">[{html_text(item["origin"])}]</span>' if item.get("origin") else ""
        reasons = item.get("reasons") or []
        nested = "".join(
            f"<li>{html_text(r.get('origin'))}: {html_text(r.get('detail'))}</li>"
            for r in reasons[:MAX_REASONS]
        )
        if len(reasons) > MAX_REASONS:
            nested += f"<li>and {len(reasons) - MAX_REASONS} more</li>"
        items.append(f"<li>{html_text(item['message'])}{origin}{f'<ul>{nested}</ul>' if nested else ''}</li>")
    out = f'<ul class="evidence">{"".join(items)}</ul>' if items else ""
    suppression = finding.get("suppression")
    if suppression:
        until = f" (until {html_text(suppression['until'])})" if suppression.get("until") else ""
        out += f'<p class="muted">Muted: {html_text(suppression.get("reason"))}{until}</p>'
    return out


def _fix(finding: dict[str, Any], providers: set[str]) -> str:
    remediation = finding.get("remediation") or {}
    parts = [f'<div class="fix"><p><strong>Fix:</strong> {html_text(remediation.get("text", ""))}</p>']
    steps = []
    for provider in [p for p in (*PROVIDERS, *sorted(providers)) if p in providers and p in remediation]:
        how = remediation[provider] or {}
        blocks = "".join(
            f"<dt>{label}</dt><dd><pre>{html_lines(how[key], 8000)}</pre></dd>"
            for key, label in HOW
            if how.get(key)
        )
        if blocks:
            label = PROVIDERS.get(provider, provider)
            steps.append(f"<h4>{html_text(label)}</h4><dl>{blocks}</dl>")
    if steps:
        parts.append(f"<details><summary>How, step by step</summary>{''.join(steps)}</details>")
    references = finding.get("references") or []
    if references:
        parts.append('<p class="refs">References: ' + " ".join(link(r) for r in references) + "</p>")
    parts.append("</div>")
    return "".join(parts)


def link(reference: object) -> str:
    """A reference a reader may click: an https address becomes a link, followed on a click only
    (the page itself fetches nothing); anything else (javascript:, a quote that would end the
    attribute) is shown as text."""
    text = str(reference)
    if text.startswith("https://") and not any(c.isspace() or c in "\"'<>`\\" for c in text):
        return f'<a href="{html_text(text)}" rel="noopener noreferrer" target="_blank">{html_text(text)}</a>'
    return f"<span>{html_text(text)}</span>"


def changes_section(baseline: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """New, unchanged and resolved findings since the baseline, with their resources."""
    counts = baseline.get("counts") or {}
    new = [(i, f) for i, f in enumerate(rows) if f.get("change") == "new"]
    resolved = baseline.get("resolved") or []
    number = {
        "new": _count(counts.get("new"), len(new)),
        "unchanged": _count(counts.get("unchanged"), sum(f.get("change") == "unchanged" for f in rows)),
        "resolved": _count(counts.get("resolved"), len(resolved)),
    }
    parts = [
        '<section id="changes" aria-labelledby="changes-h">',
        '<h2 id="changes-h">Since the baseline</h2>',
        f"<p>Compared with <code>{html_text(baseline.get('file') or 'the baseline')}</code>:</p>",
        '<dl class="tiles">'
        + "".join(
            f'<div class="tile ch-{key}" data-change-count="{key}"><dt>{key}</dt><dd>{n}</dd></div>'
            for key, n in number.items()
        )
        + "</dl>",
        f"<h3>New ({len(new)})</h3>",
        _change_list([(f"#r{i}", f) for i, f in new], "Nothing new failed."),
        f"<h3>Resolved ({len(resolved)})</h3>",
        _change_list([(None, f) for f in resolved], "Nothing was resolved."),
        f"<p>{number['unchanged']} unchanged: listed under Findings (filter change: unchanged).</p>",
        "</section>",
    ]
    return "\n".join(parts)


def _change_list(items: list[tuple[str | None, dict[str, Any]]], none: str) -> str:
    if not items:
        return f'<p class="none">{html_text(none)}</p>'
    out = []
    for anchor, finding in items:
        title = html_text(finding.get("title") or finding.get("policy_id"))
        shown = f'<a href="{anchor}">{title}</a>' if anchor else title
        severity = html_text(finding.get("severity", ""))
        out.append(
            f'<li><span class="sev sev-{severity}">{severity}</span> {shown}'
            f"<br>{resource_cell(finding.get('resource') or {'id': '?', 'provider': '?'})}</li>"
        )
    return f'<ul class="changes">{"".join(out)}</ul>'


def _count(given: object, counted: int) -> int:
    return given if isinstance(given, int) and not isinstance(given, bool) else counted


def _severity_index(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _label(resource: dict[str, Any]) -> str:
    return str(resource.get("name") or resource["id"])
