"""The Terraform expression evaluator, expression by expression."""

import pytest

from cloudscan.providers.terraform.expressions import Index, Unknown, evaluate

VALUES = {
    ("var", "env"): "prod",
    ("var", "ports"): [104, 11112],
    ("local", "tags"): {"Team": "radiology"},
}


def resolve(parts):
    if tuple(parts[:2]) in VALUES:
        value = VALUES[tuple(parts[:2])]
        for step in parts[2:]:
            value = value[step.key if isinstance(step, Index) else step]
        return value
    if parts[:2] == ["aws_s3_bucket", "b"]:
        return {"id": "pacs", "arn": "arn:aws:s3:::pacs"}[parts[-1]]
    return Unknown(f"{parts[0]}.{parts[1]} is not declared")


CASES = [
    ("plain text", "plain text"),
    ("pacs-${var.env}", "pacs-prod"),
    ("${var.env}", "prod"),
    ("${var.ports[1]}", 11112),
    ("${var.ports}", [104, 11112]),
    ("${aws_s3_bucket.b.arn}/*", "arn:aws:s3:::pacs/*"),
    ('${jsonencode({"Effect": "Allow", "Resource": ["${aws_s3_bucket.b.arn}"]})}',
     '{"Effect":"Allow","Resource":["arn:aws:s3:::pacs"]}'),
    ('${jsonencode({Principal = {AWS = "*"}})}', '{"Principal":{"AWS":"*"}}'),
    ('${format("%s-logs", var.env)}', "prod-logs"),
    ('${merge(local.tags, {"Env": var.env})}', {"Team": "radiology", "Env": "prod"}),
    ('${concat(["a"], ["b"])}', ["a", "b"]),
    ('${lower("PACS")}', "pacs"),
    ('${join(",", var.ports)}', "104,11112"),
    ("${true}", True),
    ("${null}", None),
    ("${-1}", -1),
    ('${"a\\"b"}', 'a"b'),
    ("$${not.an.expression}", "${not.an.expression}"),
]
UNKNOWN = [
    "${var.missing}",
    "arn:aws:s3:::${var.missing}/*",
    '${var.env == "prod" ? "x" : "y"}',
    "${[for p in var.ports : p]}",
    "${var.ports[*]}",
    "${timestamp()}",
    '${jsonencode({"Principal": var.missing})}',
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_evaluates(source, expected):
    assert evaluate(source, resolve) == expected


@pytest.mark.parametrize("source", UNKNOWN)
def test_never_guesses(source):
    value = evaluate(source, resolve)
    assert isinstance(value, Unknown), value
    assert value.reason


def test_nested_structures_are_evaluated():
    assert evaluate({"a": ["${var.env}", {"b": "${var.ports[0]}"}], "__start_line__": 3}, resolve) == {
        "a": ["prod", {"b": 104}]}
