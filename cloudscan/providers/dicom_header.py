"""Reading just enough of an object to tell whether it is DICOM and whether its header names
a patient. Values never leave this module: only tag keywords and booleans do."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from typing import Any

# Identifying attributes (DICOM PS3.15 Annex E, basic profile), by keyword.
PHI_TAGS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "PatientBirthName",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "PatientMotherBirthName",
    "MedicalRecordLocator",
    "InstitutionName",
    "InstitutionAddress",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "OperatorsName",
    "AccessionNumber",
    "StudyID",
    "PatientComments",
)
PREAMBLE_BYTES = 132
LIKELY_IMAGING = re.compile(r"(\.dcm$|\.dicom$|(^|/)DICOMDIR$|(^|/)\d+(\.\d+){3,}(/|$)|(^|/)[^./]+$)", re.I)
EXPLICIT_VRS = {
    b"AE",
    b"AS",
    b"AT",
    b"CS",
    b"DA",
    b"DS",
    b"DT",
    b"FL",
    b"FD",
    b"IS",
    b"LO",
    b"LT",
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OW",
    b"PN",
    b"SH",
    b"SL",
    b"SQ",
    b"SS",
    b"ST",
    b"TM",
    b"UI",
    b"UL",
    b"UN",
    b"US",
    b"UT",
}


def imaging_first(keys: list[str]) -> list[str]:
    """Keys that look like DICOM (.dcm, DICOMDIR, UID-shaped paths, no extension) first."""
    return sorted(keys, key=lambda k: 0 if LIKELY_IMAGING.search(k) else 1)


def sniff(head: bytes) -> tuple[bool, bool]:
    """(is DICOM, has the 128-byte preamble) from the first 132 bytes."""
    if len(head) >= PREAMBLE_BYTES and head[128:132] == b"DICM":
        return True, True
    # Without preamble, a data set starts with a group 0002 or 0008 element (little endian).
    if (
        len(head) >= 6
        and head[0:2] in (b"\x02\x00", b"\x08\x00")
        and (head[4:6] in EXPLICIT_VRS or head[1] == 0)
    ):
        return True, False
    return False, False


def identifying_tags(header: bytes) -> tuple[list[str] | None, bool | None]:
    """(keywords of identifying tags present and not empty, de-identified flag) from a header
    prefix; (None, None) when it cannot be parsed. Tolerates a cut-off header."""
    import pydicom  # only for --deep

    try:
        dataset = pydicom.dcmread(io.BytesIO(header), force=True, stop_before_pixels=True)
        present = [kw for kw in PHI_TAGS if _not_empty(dataset, kw)]
        removed = str(dataset.get("PatientIdentityRemoved", "")).strip().upper() == "YES"
        method = _not_empty(dataset, "DeidentificationMethod") or _not_empty(
            dataset, "DeidentificationMethodCodeSequence"
        )
    except Exception:  # a truncated or odd header: unknown, and its text is never echoed
        return None, None
    return present, removed or method


def _not_empty(dataset: Any, keyword: str) -> bool:
    try:
        element = dataset.data_element(keyword)
    except Exception:
        return False
    if element is None:
        return False
    value = element.value
    return bool(value) and str(value).strip() not in ("", "[]")


# A DICOM UID (PS3.5 9.1): a root 0, 1 or 2, at least two more components without leading
# zeros, 64 characters at most. A medical record number or a birth date is no UID.
DICOM_UID = re.compile(r"[0-2](\.(0|[1-9][0-9]*)){2,}")
STANDARD_EXTENSIONS = (
    ".dcm.gz",
    ".nii.gz",
    ".tar.gz",
    ".dcm",
    ".dicom",
    ".dic",
    ".zip",
    ".gz",
    ".tgz",
    ".tar",
    ".json",
    ".xml",
    ".nii",
    ".png",
    ".jpg",
    ".jpeg",
    ".txt",
    ".csv",
    ".pdf",
)
# Keyed per process (one scan): equal parts group within a report, and no list of names can
# be hashed to find which one a report shows.
_KEY = secrets.token_bytes(32)


def redact_key(key: str) -> str:
    """DICOM UIDs and standard extensions are kept (they identify studies and formats, not
    people); every other part of the key, which may be a name, an MRN or a birth date, becomes
    a keyed hash."""
    parts = []
    for part in key.split("/"):
        if not part or part.upper() == "DICOMDIR":
            parts.append(part)
            continue
        lowered = part.lower()
        extension = next((e for e in STANDARD_EXTENSIONS if lowered.endswith(e) and len(part) > len(e)), "")
        stem = part[: len(part) - len(extension)]
        if len(stem) <= 64 and DICOM_UID.fullmatch(stem):
            parts.append(part)
            continue
        digest = hmac.new(_KEY, stem.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:12]
        parts.append(f"h-{digest}{extension.lower()}")
    return "/".join(parts)
