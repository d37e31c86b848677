"""Property-based: generated hostile input never crashes, hangs or floods cloudscan.

For each kind of input others control (Terraform and .tf.json files, policies, mute files,
targets, inventories, Orthanc configurations, HTTP answers of a probed server), hypothesis
generates malformed and adversarial values. Each may be refused, but only with the error the
reader documents: never another exception, never more than a bounded time per input."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# CI tries this many inputs per property; CLOUDSCAN_PROPERTY_EXAMPLES=1000 searches longer.
EXAMPLES = int(os.environ.get("CLOUDSCAN_PROPERTY_EXAMPLES", "60"))
SLOW = settings(
    max_examples=EXAMPLES,
    deadline=5000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TIME_LIMIT = 5.0  # seconds for one input

# JSON values, including deep and wide ones and the shapes cloudscan's readers expect.
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=40,
)

# HCL-ish text: tokens of the language in random order, and blocks with random bodies.
HCL_TOKENS = [
    "resource",
    "data",
    "variable",
    "locals",
    "module",
    "dynamic",
    "content",
    "for_each",
    "count",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "=",
    ":",
    "?",
    ",",
    ".",
    "*",
    "...",
    "=>",
    "for",
    "in",
    "if",
    '"aws_s3_bucket"',
    '"b"',
    '"${var.x}"',
    '"%{ if true }a%{ endif }"',
    "<<EOT\nx\nEOT\n",
    "var.x",
    "local.y",
    "each.value",
    "count.index",
    "aws_s3_bucket.b.arn",
    "1e9",
    "-1",
    "true",
    "null",
    "jsonencode(",
    "lookup(",
    "try(",
    "cidrsubnet(",
    "/* c */",
    "# c\n",
    "\n",
    "\r\n",
    "\x00",
    "\ufeff",
    "\u202e",
]
hcl_text = st.lists(st.sampled_from(HCL_TOKENS), max_size=80).map(" ".join)
expressions = st.recursive(
    st.one_of(
        st.integers(-5, 70000).map(str),
        st.sampled_from(
            ['"0.0.0.0/0"', '"tcp"', "true", "null", "var.x", "local.y", "[]", "{}", '"${var.x}/32"']
        ),
    ),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", "&&", "||"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.tuples(inner, inner).map(lambda t: f"[for v in {t[0]} : {t[1]}]"),
        st.tuples(
            st.sampled_from(
                [
                    "length",
                    "lookup",
                    "try",
                    "coalesce",
                    "flatten",
                    "cidrsubnet",
                    "element",
                    "range",
                    "format",
                    "jsondecode",
                    "zipmap",
                    "split",
                    "replace",
                ]
            ),
            st.lists(inner, max_size=3),
        ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
    ),
    max_leaves=25,
)
terraform_files = st.one_of(
    hcl_text,
    st.tuples(expressions, expressions, expressions).map(
        lambda e: (
            f'variable "x" {{\n  default = {e[0]}\n}}\nlocals {{\n  y = {e[1]}\n}}\n'
            f'resource "aws_security_group" "g" {{\n  count = {e[2]}\n  ingress {{\n    from_port = {e[0]}\n'
            f'    to_port = {e[1]}\n    protocol = "tcp"\n    cidr_blocks = [{e[2]}]\n  }}\n}}\n'
            f'resource "aws_s3_bucket" "b" {{\n  for_each = {e[1]}\n  bucket = "b-${{each.key}}"\n}}\n'
        )
    ),
)


MEMORY_LIMIT = 256 * 1024 * 1024  # bytes Python may allocate at the peak of one input


def bounded(function, *args):
    """Run one input, holding it to the time and memory limits."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        value = function(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < TIME_LIMIT * 3  # tracing slows Python down
    assert peak < MEMORY_LIMIT
    return value


@pytest.fixture(scope="module")
def policies():
    from cloudscan.policyset import load_policies

    return load_policies([])


@SLOW
@given(main=terraform_files, other=st.one_of(terraform_files, json_values.map(json.dumps)))
def test_terraform_files_never_crash_the_scan(tmp_path_factory, policies, main, other):
    from cloudscan.scan import scan_terraform

    directory = tmp_path_factory.mktemp("tf")
    (directory / "main.tf").write_text(main, encoding="utf-8", errors="surrogatepass")
    (directory / "other.tf.json").write_text(other)
    (directory / "survivor.tf").write_text(
        'resource "aws_s3_bucket" "survivor" {\n  bucket = "survivor"\n}\n'
    )
    result = bounded(scan_terraform, [directory], policies)
    assert "survivor" in {r["name"] for r in result.resources}
    assert not [e for e in result.errors if e["call"] == "terraform:read"]  # no module-wide crash
    assert not [
        r for r in result.resources if any(e["call"] == "cloudscan:internal" for e in r["_meta"]["errors"])
    ]


@SLOW
@given(
    schema=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "x-cloudscan": st.fixed_dictionaries(
                    {
                        "id": st.just("org-x"),
                        "title": st.just("t"),
                        "severity": st.just("low"),
                        "category": st.just("c"),
                        "applies_to": st.just({"kind": "storage.bucket"}),
                    }
                ),
                "properties": st.dictionaries(
                    st.sampled_from(["versioning", "access", "labels", "exposure"]), json_values, max_size=3
                ),
                "$defs": st.dictionaries(
                    st.sampled_from(["a", "b"]),
                    st.one_of(
                        json_values,
                        st.sampled_from(
                            [
                                {"$ref": "#/$defs/a"},
                                {"$ref": "#/$defs/b"},
                                {"$ref": "#"},
                                {"$ref": "http://x"},
                            ]
                        ),
                    ),
                    max_size=2,
                ),
            }
        ),
    )
)
def test_policies_are_refused_or_evaluate(schema):
    from cloudscan.engine import evaluate
    from cloudscan.policyset import PolicyError, compile_policy

    base = json.loads((Path(__file__).parent / "policy_cases" / "_base" / "storage.bucket.json").read_text())
    try:
        policy = compile_policy(schema, "generated.json")
    except PolicyError:
        return
    findings = bounded(evaluate, [policy], base)
    assert all(f["status"] in ("PASS", "FAIL", "UNKNOWN", "NOT_APPLICABLE") for f in findings)


@SLOW
@given(
    document=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "mutes": st.lists(
                    st.fixed_dictionaries(
                        {
                            "policy": st.text(max_size=10),
                            "resource": st.text(max_size=10),
                            "reason": st.text(max_size=20),
                            "until": st.text(max_size=12),
                        }
                    ),
                    max_size=4,
                )
            }
        ),
    )
)
def test_mute_files_are_refused_before_the_scan_or_apply(tmp_path_factory, document):
    from datetime import date

    from cloudscan.mutes import MuteFileError, apply_mutes, load_mutes

    path = tmp_path_factory.mktemp("mutes") / "mutes.json"
    path.write_text(json.dumps(document))
    try:
        mutes = bounded(load_mutes, path)
    except MuteFileError:
        return
    finding = {"status": "FAIL", "policy_id": "p", "resource": {"id": "r", "name": "r", "source": None}}
    apply_mutes([finding], mutes.entries, date(2026, 11, 30))


@SLOW
@given(
    line=st.text(max_size=300),
    prefix=st.sampled_from(["", "http://", "https://", "dicom://", "http://[", "https://u:p@", "dimse://"]),
)
def test_targets_are_refused_with_their_line_or_accepted(line, prefix):
    from cloudscan.providers.dicomweb import TargetError, Targets

    targets = Targets()
    try:
        bounded(targets.add, prefix + line, "targets.txt:1")
    except TargetError as exc:
        assert str(exc).startswith("targets.txt:1")
        assert "p@" not in str(exc)  # a password is never echoed


@SLOW
@given(
    report=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "resources": st.lists(
                    st.one_of(
                        json_values,
                        st.fixed_dictionaries(
                            {
                                "kind": st.just("network.ingress"),
                                "id": json_values,
                                "rule": st.one_of(
                                    json_values,
                                    st.fixed_dictionaries(
                                        {
                                            "protocol": st.sampled_from(["tcp", "all", 5]),
                                            "from_port": json_values,
                                            "to_port": json_values,
                                            "source": json_values,
                                        }
                                    ),
                                ),
                                "exposure": st.sampled_from(
                                    [{"internet": True}, {"internet": "yes"}, None, 5]
                                ),
                                "addresses": st.one_of(
                                    json_values,
                                    st.lists(st.sampled_from(["10.0.0.1", "::1", "0", "host", 5])),
                                ),
                            }
                        ),
                    ),
                    max_size=4,
                )
            }
        ),
    )
)
def test_inventories_are_refused_or_give_address_targets(tmp_path_factory, report):
    from cloudscan.providers.dicomweb import TargetError, Targets, read_inventory

    path = tmp_path_factory.mktemp("inventory") / "report.json"
    path.write_text(json.dumps(report))
    targets = Targets()
    try:
        bounded(read_inventory, path, targets)
    except TargetError:
        return
    for url in targets.urls:
        assert url.startswith(("http://", "https://"))
    for target in targets.dimse:
        assert target.host not in ("0", "host", "")


@SLOW
@given(
    config=st.one_of(
        json_values,
        st.dictionaries(
            st.sampled_from(
                [
                    "HttpPort",
                    "DicomPort",
                    "DicomAet",
                    "RemoteAccessAllowed",
                    "AuthenticationEnabled",
                    "RegisteredUsers",
                    "Plugins",
                    "DicomWeb",
                    "SslEnabled",
                    "SslMinimumProtocolVersion",
                    "DicomCheckCalledAet",
                ]
            ),
            json_values,
            max_size=8,
        ),
    ),
    comment=st.sampled_from(["", "// note\n", "/* block */", "/* unterminated"]),
)
def test_orthanc_configurations_are_judged_or_unknown(tmp_path_factory, config, comment):
    from cloudscan.providers.orthanc_config import read_config

    path = tmp_path_factory.mktemp("orthanc") / "orthanc.json"
    path.write_text(comment + json.dumps(config))
    documents, problems = bounded(read_config, [path], str)
    assert documents or problems or not isinstance(config, dict) or not config


def _answering_server(answer: bytes) -> tuple[str, threading.Event, threading.Thread]:
    """A loopback server that gives every connection the same raw answer, until stopped."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        with listener:
            while not stop.is_set():
                try:
                    connection, _ = listener.accept()
                except OSError:
                    continue
                with connection:
                    try:
                        connection.settimeout(1)
                        connection.recv(65536)
                        connection.sendall(answer)
                    except OSError:
                        pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/dicom-web", stop, thread


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=20000)
@given(
    status=st.sampled_from([b"200", b"204", b"301", b"302", b"401", b"404", b"500", b"999", b"abc"]),
    headers=st.lists(
        st.sampled_from(
            [
                b"Content-Type: application/dicom+json",
                b"Content-Type: text/html",
                b"Content-Type: \x1b[31m",
                b"Location: /login?patient=DOE^JANE&mrn=987654321",
                b"Location: http://[zz/x",
                b"WWW-Authenticate: Basic realm=x",
                b"Access-Control-Allow-Origin: *",
                b"Content-Length: 99999999",
                b"Transfer-Encoding: chunked",
                b"X-" + b"a" * 9000 + b": b",
            ]
        ),
        max_size=5,
    ),
    body=st.binary(max_size=2000),
)
def test_http_answers_never_crash_a_probe_or_leak_a_query(status, headers, body):
    from cloudscan.providers.dicomweb.probe import ProbeOptions, probe_endpoint

    answer = b"HTTP/1.1 " + status + b" X\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + body
    url, stop, thread = _answering_server(answer)
    try:
        document = bounded(probe_endpoint, url, ProbeOptions(timeout=1, probe_stow=False))
    finally:
        stop.set()
        thread.join(5)
    shown = json.dumps(document)
    assert "987654321" not in shown and "DOE^JANE" not in shown
    assert "\x1b" not in shown
