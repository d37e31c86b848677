"""The imaging archives that hold patient data, and who can reach them, in plain words: the first
thing a privacy officer reads. An archive is a bucket whose sample held DICOM studies not shown
to be de-identified, a bucket or a disk or database snapshot whose labels classify it as PHI, or
a cloud DICOM store."""

from __future__ import annotations

from typing import Any

from cloudscan.report.escape import html_text

PHI_CLASSIFICATIONS = {"phi", "ephi"}
PROVIDERS = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure", "orthanc": "Orthanc"}


def archives(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The archives of patient data among `resources`, the most exposed first."""
    found = [r for r in resources if _holds_patient_data(r)]
    return sorted(found, key=lambda r: (_rank(r.get("exposure") or {}), r["kind"], str(r.get("name"))))


def _holds_patient_data(resource: dict[str, Any]) -> bool:
    if resource["kind"] == "dicom.store":
        return True
    if resource["kind"] == "storage.snapshot":
        return str(_classification(resource) or "").lower() in PHI_CLASSIFICATIONS
    if resource["kind"] != "storage.bucket":
        return False
    data = resource.get("data") or {}
    identifiable = data.get("imaging") is True and data.get("deidentified") is not True
    return identifiable or str(data.get("classification") or "").lower() in PHI_CLASSIFICATIONS


# Who can reach an archive, each in plain words: as a fact, and as a question the scan left open.
REACH = {
    "public_read": ("Anyone on the internet can read its {things}.", "anyone on the internet can read it"),
    "public_list": ("Anyone on the internet can list its {things}.", "anyone on the internet can list it"),
    "public_write": (
        "Anyone on the internet can write or delete {things}.",
        "anyone on the internet can write to it",
    ),
    "all_authenticated_read": (
        "Anyone signed in to the cloud provider, in any account, can read its {things}.",
        "every signed-in user of the cloud provider can read it",
    ),
    "cross_account": ("Other accounts can read it: {accounts}.", "other accounts can read it"),
    # A snapshot's: whoever restores it has the whole disk or database.
    "public": ("Any AWS account can restore it, whole.", "any AWS account can restore it"),
}
WHAT = {"dicom.store": "DICOM store", "storage.snapshot": "Snapshot"}
# The labels that classify data, as checks/data.py reads them for buckets.
CLASSIFICATION_LABELS = ("dataclassification", "data-classification", "data_classification", "classification")


def _rank(exposure: dict[str, Any]) -> int:
    """0: the internet reaches it; 1: every signed-in user or other accounts; 2: not known;
    3: none of them."""
    if any(exposure.get(k) for k in ("public_read", "public_list", "public_write", "public")):
        return 0
    if exposure.get("all_authenticated_read") or exposure.get("cross_account"):
        return 1
    if any(key in exposure and exposure[key] is None for key in REACH):
        return 2
    return 3


def section(resources: list[dict[str, Any]]) -> str:
    found = archives(resources)
    parts = [
        '<section id="archives" aria-labelledby="archives-h">',
        '<h2 id="archives-h">Imaging archives with patient data</h2>',
    ]
    if not found:
        parts.append(
            '<p class="none">No bucket in this scan was seen to hold identifiable DICOM studies or was '
            "labelled as PHI, and no cloud DICOM store was found. A scan that reads no objects (Terraform, "
            "or <code>--sample 0</code>) cannot see what a bucket holds.</p>"
        )
    else:
        exposed = sum(_rank(r.get("exposure") or {}) < 2 for r in found)
        parts.append(
            '<p class="lead">Archives of patient data that people outside the organisation can reach: '
            f'<strong data-archives-exposed="{exposed}">{exposed}</strong> of '
            f'<strong data-archives="{len(found)}">{len(found)}</strong>.</p>'
        )
        parts.append('<ul class="archives">')
        parts += [_archive(r) for r in found]
        parts.append("</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def _archive(resource: dict[str, Any]) -> str:
    exposure = resource.get("exposure") or {}
    rank = _rank(exposure)
    state = ("exposed", "shared", "unknown", "closed")[rank]
    what = WHAT.get(resource["kind"], "Bucket")
    provider = PROVIDERS.get(resource["provider"], resource["provider"])
    sentences = [*_content(resource), *_reach(resource["kind"], exposure)]
    return (
        f'<li class="archive {state}">'
        f'<h3><span class="reach">{("Open", "Shared", "Unknown", "Closed")[rank]}</span> '
        f"{html_text(resource.get('name') or resource['id'])}</h3>"
        f"<p>{' '.join(html_text(s) for s in sentences)}</p>"
        f'<p class="where">{html_text(what)} · {html_text(provider)} · '
        f"<code>{html_text(resource['id'])}</code>{where(resource)}</p></li>"
    )


def _content(resource: dict[str, Any]) -> list[str]:
    if resource["kind"] == "dicom.store":
        return ["A cloud DICOM store: its studies are not sampled, so treat them as identifiable."]
    if resource["kind"] == "storage.snapshot":
        return [f"A snapshot of a disk or database; its labels classify it as {_classification(resource)}."]
    data = resource.get("data") or {}
    out = []
    if data.get("imaging"):
        count = data.get("dicom_objects")
        sampled = data.get("sampled")
        out.append(f"{count} of {sampled} sampled objects are DICOM studies.")
        tags = data.get("phi_tags") or []
        if data.get("deidentified") == "mixed":
            out.append("Some are de-identified, others are not.")
        if tags:
            out.append("Their headers carry patient identifiers: " + ", ".join(tags) + ".")
        elif data.get("deidentified") is None:
            out.append("Their headers were not read (--deep), so nobody has shown they are de-identified.")
    if str(data.get("classification") or "").lower() in PHI_CLASSIFICATIONS:
        out.append(f"Its labels classify it as {data['classification']}.")
    return out


def _reach(kind: str, exposure: dict[str, Any]) -> list[str]:
    things = "studies" if kind == "dicom.store" else "objects"
    accounts = ", ".join(exposure.get("cross_account_principals") or []) or "not named"
    out = [
        fact.format(things=things, accounts=accounts) for key, (fact, _) in REACH.items() if exposure.get(key)
    ]
    open_questions = [
        question for key, (_, question) in REACH.items() if key in exposure and exposure[key] is None
    ]
    if open_questions:
        out.append("The scan could not tell whether " + ", or whether ".join(open_questions) + ".")
    if not out:
        out.append(
            "Not open to the internet, to every signed-in user or to other accounts, as far as the scan read."
        )
    return out


def where(resource: dict[str, Any]) -> str:
    """` · file:line` for Terraform, ` · account · region` for a live resource (escaped)."""
    source = resource.get("source") or {}
    if source.get("file"):
        line = f":{html_text(source['line_start'])}" if source.get("line_start") else ""
        return f' · <span class="file">{html_text(source["file"])}{line}</span>'
    bits = [resource.get("account"), resource.get("region")]
    return "".join(f" · {html_text(bit)}" for bit in bits if bit)


def _classification(resource: dict[str, Any]) -> str | None:
    for key, value in (resource.get("labels") or {}).items():
        if key.lower() in CLASSIFICATION_LABELS:
            return str(value)
    return None
