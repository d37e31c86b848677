"""What a bucket holds, from its sampled objects and its labels: imaging or not, identifiable
or de-identified. Only tag keywords are ever handled here, never their values."""

from __future__ import annotations

from typing import Any

from cloudscan.model import unknown_inputs

from .derived import Derived

CLASSIFICATION_LABELS = (
    "dataclassification",
    "data-classification",
    "data_classification",
    "classification",
    "sensitivity",
)


def bucket_data(doc: dict[str, Any], context: Any) -> Derived:
    classification = _classification(doc.get("labels") or {})
    objects = doc.get("objects")
    reasons: dict[str, list[dict[str, Any]]] = {"imaging": [], "phi_tags": [], "deidentified": []}
    empty = {
        "imaging": None,
        "sampled": None,
        "dicom_objects": None,
        "phi_tags": None,
        "deidentified": None,
        "classification": classification,
        "reasons": reasons,
    }
    if objects is None:
        if unknown_inputs(doc, ["/objects"]):
            facts = ("imaging", "sampled", "dicom_objects", "phi_tags", "deidentified")
            return Derived(empty, unknown={f"/data/{f}": ["/objects"] for f in facts})
        return Derived(empty)  # not sampled (sampling off, or a source with no objects to read)
    dicom = [o for o in objects["items"] if o["dicom"]]
    for item in dicom:
        reasons["imaging"].append(
            {
                "origin": item["key"],
                "effective": True,
                "neutralised_by": None,
                "detail": "DICOM" + ("" if item["preamble"] else " without preamble"),
            }
        )
    read = [o for o in dicom if o["phi_tags"] is not None]
    phi = sorted({tag for o in read for tag in o["phi_tags"]})
    for item in read:
        if item["phi_tags"]:
            reasons["phi_tags"].append(
                {
                    "origin": item["key"],
                    "effective": True,
                    "neutralised_by": None,
                    "detail": "identifying tags: " + ", ".join(item["phi_tags"]),
                }
            )
    flags = {o["deidentified"] for o in read}
    deidentified: Any = None if not read else ("mixed" if len(flags) > 1 else flags.pop())
    return Derived(
        {
            "imaging": bool(dicom),
            "sampled": objects["sampled"],
            "dicom_objects": len(dicom),
            # Headers not read (no --deep) leave identification unknown, not absent.
            "phi_tags": phi if read else None,
            "deidentified": deidentified,
            "classification": classification,
            "reasons": reasons,
        }
    )


def _classification(labels: dict[str, str]) -> str | None:
    for key, value in labels.items():
        if key.lower() in CLASSIFICATION_LABELS:
            return str(value)
    return None
