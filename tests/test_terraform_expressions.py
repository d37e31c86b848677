"""The Terraform expression evaluator, expression by expression, as HCL writes them."""

import pytest

from cloudscan.providers.terraform.expressions import Unknown, dig, evaluate
from cloudscan.providers.terraform.hcl import parse_expression, parse_hcl

VALUES = {
    "var": {
        "env": "prod",
        "ports": [104, 11112],
        "public": False,
        "cidrs": ["10.0.0.0/16"],
        "rules": {"dicom": {"port": 104, "cidr": "0.0.0.0/0"}, "web": {"port": 443, "cidr": "10.0.0.0/8"}},
        "empty": "",
        "none": None,
    },
    "local": {"tags": {"Team": "radiology"}},
    "aws_s3_bucket": {"b": {"id": "pacs", "arn": "arn:aws:s3:::pacs"}},
}


def resolve(parts):
    if parts[0] in VALUES and len(parts) > 1 and parts[1] in VALUES[parts[0]]:
        return dig(VALUES[parts[0]], parts[1:])
    return Unknown(f"{'.'.join(map(str, parts))} is not declared")


def value_of(source: str):
    return evaluate(parse_expression(source), resolve)


CASES = [
    ('"plain text"', "plain text"),
    ('"pacs-${var.env}"', "pacs-prod"),
    ('"${var.env}"', "prod"),
    ("var.ports[1]", 11112),
    ("var.ports", [104, 11112]),
    ('"${aws_s3_bucket.b.arn}/*"', "arn:aws:s3:::pacs/*"),
    (
        'jsonencode({"Effect": "Allow", "Resource": ["${aws_s3_bucket.b.arn}"]})',
        '{"Effect":"Allow","Resource":["arn:aws:s3:::pacs"]}',
    ),
    ('jsonencode({Principal = {AWS = "*"}})', '{"Principal":{"AWS":"*"}}'),
    ('format("%s-logs", var.env)', "prod-logs"),
    ('formatlist("port-%d", var.ports)', ["port-104", "port-11112"]),
    ('merge(local.tags, {"Env": var.env})', {"Team": "radiology", "Env": "prod"}),
    ('concat(["a"], ["b"])', ["a", "b"]),
    ('lower("PACS")', "pacs"),
    ('join(",", var.ports)', "104,11112"),
    ("true", True),
    ("null", None),
    ("-1", -1),
    ('"a\\"b"', 'a"b'),
    ('"$${not.an.expression}"', "${not.an.expression}"),
    # operators
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 / 4", 2.5),
    ("7 % 3", 1),
    ('"8042" + 1', 8043),
    ('!var.public && var.env == "prod"', True),
    ('var.public || var.env != "prod"', False),
    ("var.ports[0] < 1024", True),
    ("var.ports[1] >= 11112", True),
    ("false && var.missing", False),
    ("true || var.missing", True),
    # conditionals, also broken over lines inside parentheses
    ('var.public ? "public-read" : "private"', "private"),
    ('(var.env == "prod"\n  ? "locked"\n  : "open")', "locked"),
    ('var.missing ? "same" : "same"', "same"),
    # for expressions and splats
    ("[for p in var.ports : p + 1]", [105, 11113]),
    ("[for p in var.ports : p if p > 1000]", [11112]),
    ("{for k, r in var.rules : k => r.port}", {"dicom": 104, "web": 443}),
    ('[for k, r in var.rules : r.cidr if r.cidr == "0.0.0.0/0"]', ["0.0.0.0/0"]),
    ('{for p in var.ports : (p > 1000 ? "high" : "low") => p...}', {"low": [104], "high": [11112]}),
    ("[for p in var.ports : {from = p, to = p}]", [{"from": 104, "to": 104}, {"from": 11112, "to": 11112}]),
    ("values(var.rules)[*].port", [104, 443]),
    ("values(var.rules).*.cidr", ["0.0.0.0/0", "10.0.0.0/8"]),
    ("var.none[*]", []),
    # functions the issue names
    ('lookup(var.rules.dicom, "port", 0)', 104),
    ('lookup(var.rules.dicom, "absent", "dflt")', "dflt"),
    ("try(var.rules.absent.port, 4242)", 4242),
    ("try(var.rules.dicom.port, 4242)", 104),
    ('try(var.rules.absent ? "a" : "b", "fallback")', "fallback"),  # an error inside stays an error
    ("can(var.rules.absent)", False),
    ("can(var.rules.dicom)", True),
    ("length(var.ports)", 2),
    ("keys(var.rules)", ["dicom", "web"]),
    ("element(var.ports, 3)", 11112),
    ("contains(var.ports, 104)", True),
    ('coalesce(var.empty, "fallback")', "fallback"),
    ("flatten([[1, [2]], [3]])", [1, 2, 3]),
    ("distinct([1, 2, 1])", [1, 2]),
    ('cidrsubnet("10.0.0.0/16", 8, 2)', "10.0.2.0/24"),
    ('cidrsubnets("10.0.0.0/16", 8, 8, 4)', ["10.0.0.0/24", "10.0.1.0/24", "10.0.16.0/20"]),
    ('cidrhost("10.0.0.0/24", 5)', "10.0.0.5"),
    ('replace("a-b-c", "-", "_")', "a_b_c"),
    ('replace("pacs01", "/[0-9]+/", "")', "pacs"),
    ('split(",", "a,b")', ["a", "b"]),
    ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
    ('tomap({a = "x"})', {"a": "x"}),
    ('toset(["b", "a", "b"])', ["a", "b"]),
    ("range(3)", [0, 1, 2]),
    # found in review: splats, format flags, conditions, escapes
    ('[{a = "x"}, {a = "y"}].*.a[0]', "x"),
    ("[{a = [{b = 1}, {b = 2}]}, {a = [{b = 3}]}][*].a[*].b", [[1, 2], [3]]),
    ("{a = 1}[*].a", [1]),
    ('format("%-5s|", "ab")', "ab   |"),
    ('"%{ if "true" }a%{ endif }"', "a"),
    ('"x\\uD800y"', "x\ufffdy"),
    ('try({(null) = 1}, "d")', "d"),
    ('"%{ if true ~}  yes  %{~ endif }"', "yes"),
    ('"a ${~ "b" ~} c"', "abc"),
    ("one([])", None),
    ("provider_default = 1", None),  # replaced below: an object key written bare
]
CASES[-1] = ("{provider_default = 1}", {"provider_default": 1})

UNKNOWN = [
    "var.missing",
    '"arn:aws:s3:::${var.missing}/*"',
    'var.missing == "prod" ? "x" : "y"',
    "[for p in var.missing : p]",
    "var.missing[*].id",
    "timestamp()",
    'jsonencode({"Principal": var.missing})',
    "try(var.missing, 1)",
    'file("policy.json")',
    "var.ports[9]",
    "1 / 0",
    'format("%s")',
    "0x10",
    "{for x in [1] : [x] => x}",
    'regex("(a|aa)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")',
    "setsubtract([timestamp()], [timestamp()])",
    "[for a in range(2000) : [for b in range(2000) : b]]",
    'cidrsubnet("10.0.0.0/8", -100000000000, 0)',
    'format("%0999999999d", 1)',
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_evaluates(source, expected):
    assert value_of(source) == expected


@pytest.mark.parametrize("source", UNKNOWN)
def test_never_guesses(source):
    value = value_of(source)
    assert isinstance(value, Unknown), value
    assert value.reason


def test_an_unknown_element_stays_inside_a_known_list():
    assert value_of("length([var.missing, 1])") == 2
    assert isinstance(value_of("concat([var.missing], [1])")[0], Unknown)


def test_heredocs_and_template_directives():
    body = parse_hcl(
        b"a = <<-EOT\n    hello ${var.env}\n      indented\n    EOT\n"
        b"b = <<EOT\nraw $${x}\nEOT\n"
        b'c = "%{ if var.public }open%{ else }closed%{ endif }"\n'
        b'd = "%{ for p in var.ports }${p};%{ endfor }"\n'
    )
    assert evaluate(body, resolve) == {
        "a": "hello prod\n  indented\n",
        "b": "raw ${x}\n",
        "c": "closed",
        "d": "104;11112;",
    }


@pytest.mark.parametrize(
    "source",
    [
        b'resource "aws_s3_bucket" "b" {\r\n  bucket = "x"\r\n  # c\r\n'
        b"  acl = <<EOT\r\npublic-read\r\nEOT\r\n}\r\n",
        b'\xef\xbb\xbfresource "aws_s3_bucket" "b" {\n  bucket = "x"\n  acl = <<EOT\npublic-read\nEOT\n}\n',
        b'resource "aws_s3_bucket" "b" {\n  bucket = /* name */ "x"\n  acl = "public-read" # trailing\n}\n',
    ],
)
def test_files_terraform_accepts(source):
    """CRLF line ends, a byte-order mark and comments inside expressions."""
    body = parse_hcl(source)
    bucket = body["resource"][0]["aws_s3_bucket"]["b"]
    assert evaluate(bucket, resolve) == {
        "bucket": "x",
        "acl": "public-read" if b"<<" not in source else "public-read\n",
    }
    assert bucket["__start_line__"] == 1


def test_labels_and_lenient_rereading_keep_what_is_written():
    body = parse_hcl(b'resource "a\\U0001F600" "b" {\n  bucket = "logs 1e3 x"\n  size = 1e3\n}\n')
    (labels,) = body["resource"]
    (block,) = labels["a\U0001f600"].values()
    assert evaluate(block, resolve) == {"bucket": "logs 1e3 x", "size": 1000}


def test_nesting_past_the_limit_is_unknown_not_a_crash():
    deep = "[" * 300 + "1" + "]" * 300
    value = value_of(deep)
    assert isinstance(value, Unknown) and "nested" in value.reason
