"""Input that others control, as an attacker would send it: each bad input gives a clear error
naming it (exit 2 when it is the user's own option, exit 3 or an error entry when it is a file
under scan), never exit 4, and the rest of the scan goes on.

Each case: the files to lay out (text, or a special: a symlink to /dev/zero, a FIFO), the
command, the exit code, a phrase the output must hold, and the resources that must survive."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cloudscan.cli import cli

GOOD_TF = 'resource "aws_s3_bucket" "survivor" {\n  bucket = "survivor"\n}\n'
DEV_ZERO, FIFO = object(), object()
MUTE_OK = {"policy": "*", "resource": "*", "reason": "accepted for the test"}
POLICY = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "x-cloudscan": {
        "id": "org-test",
        "title": "A test policy",
        "severity": "low",
        "category": "test",
        "applies_to": {"kind": "storage.bucket"},
    },
    "properties": {"versioning": {"properties": {"enabled": {"const": True}}}},
}


def policy(**changes):
    return json.dumps({**POLICY, **changes})


CASES = [
    # 1. Files that are not regular files: an error naming the file, the scan goes on.
    (
        "tf symlink to /dev/zero",
        {"main.tf": GOOD_TF, "zero.tf": DEV_ZERO},
        ["scan", "terraform", "{d}"],
        3,
        "zero.tf",
        ["survivor"],
    ),
    ("tf FIFO", {"main.tf": GOOD_TF, "x.tf": FIFO}, ["scan", "terraform", "{d}"], 3, "a FIFO", ["survivor"]),
    (
        "orthanc.json symlink to /dev/zero",
        {"main.tf": GOOD_TF, "pacs/orthanc.json": DEV_ZERO},
        ["scan", "terraform", "{d}"],
        3,
        "not a regular file",
        ["survivor"],
    ),
    (
        "orthanc sibling FIFO",
        {"main.tf": GOOD_TF, "pacs/orthanc.json": '{"RemoteAccessAllowed": false}', "pacs/extra.json": FIFO},
        ["scan", "terraform", "{d}"],
        3,
        "a FIFO",
        ["survivor"],
    ),
    (
        "--policies FIFO",
        {"main.tf": GOOD_TF, "p/x.json": FIFO},
        ["scan", "terraform", "{d}/main.tf", "--policies", "{d}/p"],
        2,
        "a FIFO",
        None,
    ),
    (
        "--mute /dev/zero",
        {"main.tf": GOOD_TF, "m.json": DEV_ZERO},
        ["scan", "terraform", "{d}/main.tf", "--mute", "{d}/m.json"],
        2,
        "not a regular file",
        None,
    ),
    ("--targets FIFO", {"t.txt": FIFO}, ["scan", "dicomweb", "--targets", "{d}/t.txt"], 2, "a FIFO", None),
    (
        "--from-inventory /dev/zero",
        {"r.json": DEV_ZERO},
        ["scan", "dicomweb", "--from-inventory", "{d}/r.json"],
        2,
        "not a regular file",
        None,
    ),
    ("--plan FIFO", {"p.json": FIFO}, ["scan", "terraform", "--plan", "{d}/p.json"], 2, "a FIFO", None),
    (
        "--var-file /dev/zero",
        {"main.tf": GOOD_TF, "v.tfvars": DEV_ZERO},
        ["scan", "terraform", "{d}/main.tf", "--var-file", "{d}/v.tfvars"],
        2,
        "character device",
        None,
    ),
    # 2. Policies that a scan could not evaluate are refused by validation, with file and pointer.
    (
        "policy $ref to a missing pointer",
        {"main.tf": GOOD_TF, "p/x.json": policy(properties={"versioning": {"$ref": "#/$defs/nothing"}})},
        ["scan", "terraform", "{d}/main.tf", "--policies", "{d}/p"],
        2,
        "no such definition",
        None,
    ),
    (
        "policy $ref to a URL",
        {
            "main.tf": GOOD_TF,
            "p/x.json": policy(properties={"versioning": {"$ref": "https://example.org/schema.json"}}),
        },
        ["scan", "terraform", "{d}/main.tf", "--policies", "{d}/p"],
        2,
        "/properties/versioning/$ref",
        None,
    ),
    (
        "policy $ref to file://",
        {"main.tf": GOOD_TF, "p/x.json": policy(properties={"versioning": {"$ref": "file:///etc/passwd"}})},
        ["scan", "terraform", "{d}/main.tf", "--policies", "{d}/p"],
        2,
        "own",
        None,
    ),
    (
        "policy $ref to the root",
        {"main.tf": GOOD_TF, "p/x.json": policy(properties={"versioning": {"$ref": "#"}})},
        ["scan", "terraform", "{d}/main.tf", "--policies", "{d}/p"],
        2,
        "$ref",
        None,
    ),
    (
        "policy $defs in a cycle",
        {
            "main.tf": GOOD_TF,
            "p/x.json": policy(
                **{
                    "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
                    "properties": {"versioning": {"$ref": "#/$defs/a"}},
                }
            ),
        },
        ["scan", "terraform", "{d}/main.tf", "--policies", "{d}/p"],
        2,
        "cycle",
        None,
    ),
    (
        "policy $dynamicRef",
        {"main.tf": GOOD_TF, "p/x.json": policy(properties={"versioning": {"$dynamicRef": "#x"}})},
        ["scan", "terraform", "{d}/main.tf", "--policies", "{d}/p"],
        2,
        "$dynamicRef is not allowed",
        None,
    ),
    (
        "policy nested 400 deep",
        {
            "main.tf": GOOD_TF,
            "p/x.json": policy(properties={"versioning": json.loads('{"not":' * 400 + "{}" + "}" * 400)}),
        },
        ["scan", "terraform", "{d}/main.tf", "--policies", "{d}/p"],
        2,
        "nested deeper",
        None,
    ),
    (
        "policy a 100,000-deep array",
        {"main.tf": GOOD_TF, "p/x.json": "[" * 100_000 + "]" * 100_000},
        ["scan", "terraform", "{d}/main.tf", "--policies", "{d}/p"],
        2,
        "nested too deeply",
        None,
    ),
    (
        "policy message not a string",
        {
            "main.tf": GOOD_TF,
            "p/x.json": policy(properties={"versioning": {"x-cloudscan-message": {"a": 1}, "const": 1}}),
        },
        ["scan", "terraform", "{d}/main.tf", "--policies", "{d}/p"],
        2,
        "x-cloudscan-message",
        None,
    ),
    # 3. Mute files are checked before the scan; an entry that is not well-formed mutes nothing
    # and is a warning (fail closed), the rest of the file still applies.
    (
        "mute date that does not exist",
        {"main.tf": GOOD_TF, "m.json": json.dumps({"mutes": [{**MUTE_OK, "until": "2027-02-30"}]})},
        ["scan", "terraform", "{d}/main.tf", "--mute", "{d}/m.json"],
        0,
        "/mutes/0/until",
        None,
    ),
    (
        "mute date 9999-99-99",
        {"main.tf": GOOD_TF, "m.json": json.dumps({"mutes": [{**MUTE_OK, "until": "9999-99-99"}]})},
        ["scan", "terraform", "{d}/main.tf", "--mute", "{d}/m.json"],
        0,
        "is no date",
        None,
    ),
    (
        "mute date 0000-01-01",
        {"main.tf": GOOD_TF, "m.json": json.dumps({"mutes": [{**MUTE_OK, "until": "0000-01-01"}]})},
        ["scan", "terraform", "{d}/main.tf", "--mute", "{d}/m.json"],
        0,
        "/mutes/0/until",
        None,
    ),
    (
        "mute file not UTF-8",
        {"main.tf": GOOD_TF, "m.json": b'{"mutes": ["\xff\xfe"]}'},
        ["scan", "terraform", "{d}/main.tf", "--mute", "{d}/m.json"],
        2,
        "not UTF-8",
        None,
    ),
    (
        "mute file nested 50,000 deep",
        {"main.tf": GOOD_TF, "m.json": "[" * 50_000 + "]" * 50_000},
        ["scan", "terraform", "{d}/main.tf", "--mute", "{d}/m.json"],
        2,
        "nested too deeply",
        None,
    ),
    # 4. Malformed inputs are errors on that input.
    (
        "target with an open IPv6 bracket",
        {},
        ["scan", "dicomweb", "http://[::1/dicom-web"],
        2,
        "not a valid URL",
        None,
    ),
    (
        "target with a bad IPv6 host",
        {},
        ["scan", "dicomweb", "http://[zz]:80/dicom-web"],
        2,
        "not a valid URL",
        None,
    ),
    (
        "target with a NUL byte",
        {"t.txt": "http://127.0.0.1:9/dicom\x00web\n"},
        ["scan", "dicomweb", "--targets", "{d}/t.txt"],
        2,
        "a binary file",
        None,
    ),
    (
        "target with a terminal escape",
        {"t.txt": "http://127.0.0.1:9/\x1b[31mdicom-web\n"},
        ["scan", "dicomweb", "--targets", "{d}/t.txt"],
        2,
        "control characters",
        None,
    ),
    (
        "target of 5 MB",
        {"t.txt": "http://127.0.0.1/" + "a" * 5_000_000 + "\n"},
        ["scan", "dicomweb", "--targets", "{d}/t.txt"],
        2,
        "at most 2048",
        None,
    ),
    (
        "inventory whose resources is a number",
        {"r.json": '{"resources": 5}'},
        ["scan", "dicomweb", "--from-inventory", "{d}/r.json"],
        2,
        "no list of resources",
        None,
    ),
    (
        "inventory whose addresses is a string",
        {
            "r.json": json.dumps(
                {
                    "resources": [
                        {
                            "kind": "network.ingress",
                            "id": "sg-1",
                            "addresses": "10.0.0.1",
                            "rule": {
                                "protocol": "tcp",
                                "from_port": 104,
                                "to_port": 104,
                                "source": "0.0.0.0/0",
                            },
                            "exposure": {"internet": True},
                        }
                    ]
                }
            )
        },
        ["scan", "dicomweb", "--from-inventory", "{d}/r.json"],
        2,
        "addresses is not a list",
        None,
    ),
    (
        ".tf.json with a number for a resource type",
        {"main.tf": GOOD_TF, "x.tf.json": '{"resource": {"aws_s3_bucket": 5}}'},
        ["scan", "terraform", "{d}"],
        3,
        "/resource/aws_s3_bucket must be an object",
        ["survivor"],
    ),
    (
        ".tf.json that is a list",
        {"main.tf": GOOD_TF, "x.tf.json": "[1, 2, 3]"},
        ["scan", "terraform", "{d}"],
        3,
        "not an object",
        ["survivor"],
    ),
    (
        "orthanc Plugins a number",
        {"main.tf": GOOD_TF, "pacs/orthanc.json": '{"Plugins": 5}'},
        ["scan", "terraform", "{d}"],
        3,
        "Plugins must be a list",
        ["survivor"],
    ),
    (
        "orthanc value nested 100,000 deep",
        {"main.tf": GOOD_TF, "pacs/orthanc.json": '{"Name": ' + "[" * 100_000 + "]" * 100_000 + "}"},
        ["scan", "terraform", "{d}"],
        3,
        "nested too deeply",
        ["survivor"],
    ),
    # 5. Orthanc settings Orthanc refuses are UNKNOWN with file and line, not judged as valid.
    ("orthanc NaN port", {"orthanc.json": '{"HttpPort": NaN}'}, ["scan", "config", "{d}"], 3, "NaN", None),
    (
        "orthanc Infinity port",
        {"orthanc.json": '{"DicomPort": Infinity}'},
        ["scan", "config", "{d}"],
        3,
        "Infinity",
        None,
    ),
    (
        "orthanc port as an object",
        {"orthanc.json": '{"HttpPort": {"a": 1}}'},
        ["scan", "config", "{d}"],
        3,
        "HttpPort must be a whole number",
        None,
    ),
    (
        "orthanc AE title as a list",
        {"orthanc.json": '{"DicomAet": ["A"]}'},
        ["scan", "config", "{d}"],
        3,
        "DicomAet must be a string",
        None,
    ),
    (
        "orthanc TLS version true",
        {"orthanc.json": '{"SslMinimumProtocolVersion": true}'},
        ["scan", "config", "{d}"],
        3,
        "SslMinimumProtocolVersion must be a whole number",
        None,
    ),
    # A lone surrogate in a resource label is part of the resource's id and fingerprint.
    (
        "lone surrogate in a .tf.json label",
        {"main.tf.json": '{"resource": {"aws_s3_bucket": {"x\\ud800": {"bucket": "b"}}}}'},
        ["scan", "terraform", "{d}", "--format", "json"],
        0,
        '"aws_s3_bucket.x\\ud800"',
        None,
    ),
    # 9. A scan that read nothing is no clean result.
    (
        "terraform path with no file",
        {"README.md": "nothing here"},
        ["scan", "terraform", "{d}"],
        3,
        "nothing could be judged",
        None,
    ),
]


def lay_out(root: Path, files: dict) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is DEV_ZERO:
            path.symlink_to("/dev/zero")
        elif content is FIFO:
            os.mkfifo(path)
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode())


@pytest.mark.parametrize(
    ("name", "files", "command", "code", "phrase", "survivors"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input(tmp_path, name, files, command, code, phrase, survivors):
    lay_out(tmp_path, files)
    args = [a.replace("{d}", str(tmp_path)) for a in command] + ["--fail-on", "none"]
    if survivors is not None:
        args += ["--format", "json", "-o", str(tmp_path / "report.json")]
    result = CliRunner().invoke(cli, args)
    output = result.output
    assert result.exit_code == code, (name, output[-2000:], result.exception)
    assert result.exit_code != 4 and not isinstance(result.exception, RecursionError | MemoryError)
    if survivors is not None:
        report = json.loads((tmp_path / "report.json").read_text())
        output += json.dumps(report["errors"])
        output += json.dumps([r["_meta"]["errors"] for r in report["resources"]])
        assert set(survivors) <= {r["name"] for r in report["resources"]}
    assert phrase in output, (name, output[-2000:])


def test_many_mutes_match_fast(tmp_path):
    """200,000 entries: once 21 s a finding; now a dictionary lookup and a few patterns."""
    import time
    from datetime import date

    from cloudscan.mutes import apply_mutes, load_mutes

    entries = [
        {"policy": "storage-no-public-read", "resource": f"arn:aws:s3:::bucket-{i}", "reason": "reviewed"}
        for i in range(200_000)
    ]
    entries.append({"policy": "storage-*", "resource": "*teaching*", "reason": "de-identified set"})
    (tmp_path / "m.json").write_text(json.dumps({"mutes": entries}))
    mutes = load_mutes(tmp_path / "m.json").entries
    findings = [
        {
            "status": "FAIL",
            "policy_id": "storage-no-public-read",
            "resource": {"id": f"arn:aws:s3:::{name}", "name": name, "source": None},
        }
        for name in ["bucket-199999", "teaching-files", "other"] * 300
    ]
    started = time.perf_counter()
    apply_mutes(findings, mutes, date(2026, 1, 1))
    assert time.perf_counter() - started < 5
    assert [f["status"] for f in findings[:3]] == ["MUTED", "MUTED", "FAIL"]
    assert findings[1]["suppression"]["reason"] == "de-identified set"


def test_a_newline_in_a_terraform_string_cannot_forge_a_report_line(tmp_path):
    """A policy Sid with a newline once printed 'FAKE LINE: all checks passed' as a line of its own."""
    sid = "x\\nFAKE LINE: all checks passed\\u202e"
    statement = (
        f'{{Sid = "{sid}", Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "*"}}'
    )
    (tmp_path / "main.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n  bucket = "forged"\n}\n'
        'resource "aws_s3_bucket_policy" "b" {\n  bucket = aws_s3_bucket.b.id\n'
        f'  policy = jsonencode({{Version = "2012-10-17", Statement = [{statement}]}})\n}}\n'
    )
    for fmt in ("text", "sarif"):
        args = ["scan", "terraform", str(tmp_path), "--fail-on", "none", "--format", fmt]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert not any(line.lstrip().startswith("FAKE LINE") for line in result.output.splitlines())
        assert "\u202e" not in result.output
    assert "\\x0aFAKE LINE" in CliRunner().invoke(cli, [*args[:-1], "text"]).output


def test_the_demo_says_its_account_is_simulated(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--format", "json", "-o", str(tmp_path / "demo.json")])
    assert result.exit_code == 0
    assert "simulated AWS account" in result.output


def test_a_report_to_dev_null_leaves_dev_null_a_device(tmp_path):
    """-o /dev/null (or /dev/stdout) is written to, never replaced by a file."""
    import stat

    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    result = CliRunner().invoke(
        cli, ["scan", "terraform", str(tmp_path), "--fail-on", "none", "-o", os.devnull]
    )
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
