"""Imaging-data awareness: which buckets hold DICOM, identifiable or de-identified, learnt from
a bounded sample of their first bytes; and no patient value ever leaves the scan."""

import io
import json
import logging

import aws_world
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from cloudscan.providers.dicom_header import PHI_TAGS
from cloudscan.providers.sampling import Sampling
from cloudscan.report import Format, render
from cloudscan.scan import scan_aws

NAME_MARKER = "ZQXMARKER^PATIENT"
ID_MARKER = "MRN-ZQX-4242"
KEY_MARKER = "Doe_ZQXKEY"
# Parts of keys that identify a patient without any letter: a record number, a birth date, and
# a name written as an "extension".
MRN_MARKER, BIRTH_MARKER, SUFFIX_MARKER = "987654321", "19700101", "Zqxsfx"
PUBLIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::BUCKET", "arn:aws:s3:::BUCKET/*"],
        }
    ],
}


def dicom_bytes(*, identifiable: bool, preamble: bool = True) -> bytes:
    dataset = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    if identifiable:
        dataset.PatientName = NAME_MARKER
        dataset.PatientID = ID_MARKER
    else:
        for keyword in PHI_TAGS:
            if keyword in dataset:
                delattr(dataset, keyword)
        dataset.PatientIdentityRemoved = "YES"
        dataset.DeidentificationMethod = "Basic Application Confidentiality Profile"
    buffer = io.BytesIO()
    if preamble:
        dataset.save_as(buffer, enforce_file_format=True)
    else:
        dataset.file_meta = FileMetaDataset()
        dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        dataset.save_as(buffer, enforce_file_format=False, implicit_vr=False, little_endian=True)
        return buffer.getvalue()
    return buffer.getvalue()


@pytest.fixture
def archives(guard):
    aws_world.build(
        {
            "buckets": {
                "public-identifiable": {"policy": PUBLIC_POLICY},
                "public-deidentified": {"policy": PUBLIC_POLICY},
                "private-identifiable": {"block_public_access": True},
                "public-not-imaging": {"policy": PUBLIC_POLICY},
            }
        }
    )
    s3 = aws_world.session().client("s3")
    uid = generate_uid()
    put = lambda bucket, key, body: s3.put_object(Bucket=bucket, Key=key, Body=body)  # noqa: E731
    put("public-identifiable", f"{KEY_MARKER}/{uid}/IM0001.dcm", dicom_bytes(identifiable=True))
    put("public-identifiable", f"{KEY_MARKER}/{uid}/IM0002", dicom_bytes(identifiable=True, preamble=False))
    put("public-identifiable", "README.txt", b"exports for the viewer")
    put(
        "public-identifiable",
        f"mrn/{MRN_MARKER}/{BIRTH_MARKER}/Doe.{SUFFIX_MARKER}",
        dicom_bytes(identifiable=True),
    )
    put("public-deidentified", f"{uid}/IM0001.dcm", dicom_bytes(identifiable=False))
    put("public-deidentified", f"{uid}/truncated.dcm", dicom_bytes(identifiable=False)[:100])
    put("private-identifiable", f"{uid}/IM0001.dcm", dicom_bytes(identifiable=True))
    put("public-not-imaging", "logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 300)
    return guard


def scan(guard, policies, **sampling):
    return scan_aws(
        guard.session(),
        policies,
        regions=(aws_world.REGION,),
        sampling=Sampling(**{"size": 5, "deep": True, **sampling}),
    )


def by_bucket(result):
    resources = {r["name"]: r for r in result.resources if r["kind"] == "storage.bucket"}
    statuses = {}
    for finding in result.findings:
        name = next((n for n, r in resources.items() if r["id"] == finding["resource"]["id"]), None)
        statuses.setdefault(name, {})[finding["policy_id"]] = finding["status"]
    return resources, statuses


def test_data_facts_from_the_sample(archives, builtin_policies):
    resources, _ = by_bucket(scan(archives, builtin_policies))
    identifiable = resources["public-identifiable"]["data"]
    assert identifiable["imaging"] is True and identifiable["dicom_objects"] == 3
    assert {"PatientName", "PatientID"} <= set(identifiable["phi_tags"])
    assert identifiable["deidentified"] is False
    deidentified = resources["public-deidentified"]["data"]
    # The truncated object is not DICOM to the sniffer (under 132 bytes), the other is de-identified.
    assert deidentified["imaging"] is True and deidentified["deidentified"] is True
    assert deidentified["phi_tags"] == []
    assert resources["public-not-imaging"]["data"]["imaging"] is False


def test_severity_follows_the_data(archives, builtin_policies):
    _, statuses = by_bucket(scan(archives, builtin_policies))
    assert statuses["public-identifiable"]["storage-no-public-identifiable-imaging"] == "FAIL"
    assert statuses["public-identifiable"]["storage-no-public-read"] == "NOT_APPLICABLE"
    assert statuses["public-deidentified"]["storage-no-public-deidentified-imaging"] == "FAIL"
    assert statuses["public-deidentified"]["storage-no-public-identifiable-imaging"] == "PASS"
    assert statuses["private-identifiable"]["storage-no-public-identifiable-imaging"] == "PASS"
    assert statuses["public-not-imaging"]["storage-no-public-read"] == "FAIL"  # generic rule still holds


def test_without_deep_identification_is_unknown_and_judged_as_identifiable(archives, builtin_policies):
    resources, statuses = by_bucket(scan(archives, builtin_policies, deep=False))
    assert resources["public-deidentified"]["data"]["phi_tags"] is None
    assert statuses["public-deidentified"]["storage-no-public-identifiable-imaging"] == "FAIL"


def test_no_patient_value_leaves_the_scan(archives, builtin_policies, caplog):
    caplog.set_level(logging.DEBUG)
    result = scan(archives, builtin_policies)
    outputs = [render(fmt, result, verbose=True) for fmt in Format]
    outputs.append(json.dumps(result.resources))
    outputs.append(caplog.text)
    for text in outputs:
        for marker in (
            NAME_MARKER,
            "ZQXMARKER",
            ID_MARKER,
            KEY_MARKER,
            "ZQXKEY",
            MRN_MARKER,
            BIRTH_MARKER,
            SUFFIX_MARKER,
        ):
            assert marker not in text


def test_object_keys_keep_only_uids_and_standard_extensions():
    from cloudscan.providers.dicom_header import redact_key

    uid = "1.2.840.113619.2.55.3.604688119.969.1268071029.320"
    shown = redact_key(f"mrn/{MRN_MARKER}/{BIRTH_MARKER}/{uid}/IM0001.dcm")
    parts = shown.split("/")
    assert parts[3] == uid and parts[4].endswith(".dcm") and MRN_MARKER not in shown
    assert redact_key("x/Doe").split("/")[1] == redact_key("y/Doe").split("/")[1]  # equal parts group
    assert "01.2" not in redact_key("01.2/3.dcm")  # a leading zero is no UID


def test_keys_are_shown_only_when_asked(archives, builtin_policies):
    resources, _ = by_bucket(scan(archives, builtin_policies, show_keys=True))
    keys = [i["key"] for i in resources["public-identifiable"]["objects"]["items"]]
    assert any(KEY_MARKER in k for k in keys)


def test_bytes_read_are_bounded(archives, builtin_policies):
    result = scan(archives, builtin_policies, size=2, deep_bytes=4096)
    for resource in result.resources:
        if resource["kind"] == "storage.bucket" and resource["objects"]:
            assert resource["objects"]["sampled"] <= 2
            assert resource["objects"]["bytes_read"] <= 2 * (132 + 4096)
    gets = archives.count("s3", "GetObject")
    assert gets <= 4 * 2 * 2  # four buckets, two objects, first bytes plus header


def test_sampling_off_reads_no_object(archives, builtin_policies):
    result = scan(archives, builtin_policies, size=0)
    assert archives.count("s3", "GetObject") == archives.count("s3", "ListObjectsV2") == 0
    _, statuses = by_bucket(result)
    assert statuses["public-identifiable"]["storage-no-public-read"] == "FAIL"


def test_a_denied_read_leaves_the_data_unknown(archives, builtin_policies):
    archives.fail[("s3", "GetObject")] = "AccessDenied"
    _, statuses = by_bucket(scan(archives, builtin_policies))
    verdict = statuses["public-identifiable"]["storage-no-public-identifiable-imaging"]
    assert verdict in ("UNKNOWN", "NOT_APPLICABLE")
    assert statuses["public-identifiable"]["storage-no-public-read"] == "FAIL"
