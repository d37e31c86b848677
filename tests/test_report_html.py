"""The HTML report (--format html): one self-contained page that fetches nothing when opened, shows
every input string as text, and counts what the scan counted; then the same pages in a real
headless Chromium, with their filters run from the URL fragment."""

import base64
import hashlib
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from chromium import load, require_chromium
from click.testing import CliRunner

from cloudscan.cli import cli
from cloudscan.policyset import SEVERITIES, load_policies
from cloudscan.report import Format, html, render
from cloudscan.report.escape import html_lines, html_text, script_json
from cloudscan.report.summary import summarise
from cloudscan.scan import error_count, scan_terraform

ROOT = Path(__file__).resolve().parent.parent

# Names a pull request could give its buckets: each must reach the reader as the text it is.
SCRIPT_NAME = "</script><script>document.title='pwned'</script>"
ATTRIBUTE_NAME = '"><img src=x onerror=alert(1)>'
SEPARATOR_NAME = "line\u2028break &lt;b&gt; \u202eright-to-left"
HOSTILE_TERRAFORM = """
resource "aws_s3_bucket" "script" {
  bucket = "</script><script>document.title='pwned'</script>"
  tags   = { DataClassification = "PHI" }
}
resource "aws_s3_bucket_public_access_block" "script" {
  bucket                  = aws_s3_bucket.script.id
  block_public_acls       = false
  ignore_public_acls      = false
  block_public_policy     = false
  restrict_public_buckets = false
}
resource "aws_s3_bucket_policy" "script" {
  bucket = aws_s3_bucket.script.id
  policy = jsonencode({
    Statement = [{ Sid = "<script>alert(1)</script>", Effect = "Allow", Principal = "*",
                   Action = "s3:GetObject", Resource = "${aws_s3_bucket.script.arn}/*" }]
  })
}
resource "aws_s3_bucket" "attribute" {
  bucket = "\\"><img src=x onerror=alert(1)>"
}
resource "aws_s3_bucket" "separator" {
  bucket = "line\\u2028break &lt;b&gt; \\u202eright-to-left"
}
"""
# A policy from --policies is input too: its title, texts and references.
HOSTILE_POLICY = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "x-cloudscan": {
        "id": "org-hostile-metadata",
        "title": "<script>document.title='pwned'</script> buckets keep versions",
        "severity": "low",
        "category": "data-protection",
        "applies_to": {"kind": "storage.bucket"},
        "description": '"><img src=x onerror=alert(1)> a description from a pull request',
        "remediation": {"text": "</style><script>alert(1)</script>", "aws": {"cli": "aws <b>\n&amp; next"}},
        "compliance": {"hipaa": ["164.312(c)<img src=x>"]},
        "references": ['https://example.org/"><script>alert(1)</script>', "https://example.org/ok"],
    },
    "properties": {
        "versioning": {
            "properties": {
                "enabled": {"const": True, "x-cloudscan-message": "<script>alert(1)</script> not versioned"}
            }
        }
    },
}


class Elements(HTMLParser):
    """Every element of a page, in document order, with its attributes and its text content."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.all: list[dict] = []
        self._open: list[dict] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": []}
        self.all.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.all.append({"tag": tag, "attrs": dict(attrs), "text": []})

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index]["tag"] == tag:
                del self._open[index:]
                return

    def handle_data(self, data):
        for element in self._open:
            element["text"].append(data)

    def find(self, tag: str | None = None, **attrs: str) -> list[dict]:
        """Elements with this tag and these attribute values (`class_` contains the class)."""
        out = []
        for e in self.all:
            if tag and e["tag"] != tag:
                continue
            if "class_" in attrs and attrs["class_"] not in (e["attrs"].get("class") or "").split():
                continue
            if all(e["attrs"].get(k) == v for k, v in attrs.items() if k != "class_"):
                out.append(e)
        return out


def text(element: dict) -> str:
    return "".join(element["text"])


def visible_rows(page: Elements) -> list[dict]:
    return [r for r in page.find("tr", class_="finding") if "hidden" not in r["attrs"]]


@pytest.fixture(scope="module")
def fixtures_result(builtin_policies):
    """The bundled Terraform fixtures: three clouds and Orthanc, UNKNOWN results, errors."""
    return scan_terraform([ROOT / "terraform-fixtures"], builtin_policies)


@pytest.fixture(scope="module")
def fixtures_page(fixtures_result):
    return html.render(fixtures_result)


@pytest.fixture(scope="module")
def hostile_result(tmp_path_factory, builtin_policies):
    directory = tmp_path_factory.mktemp("hostile")
    (directory / "main.tf").write_text(HOSTILE_TERRAFORM)
    (directory / "policies").mkdir()
    (directory / "policies" / "hostile.json").write_text(json.dumps(HOSTILE_POLICY))
    policies = [*builtin_policies, *load_policies([directory / "policies"], builtin=False)]
    result = scan_terraform([directory / "main.tf"], policies)
    assert {r["name"] for r in result.resources} == {SCRIPT_NAME, ATTRIBUTE_NAME, SEPARATOR_NAME}
    return result


@pytest.fixture(scope="module")
def hostile_page(hostile_result):
    return html.render(hostile_result)


@pytest.fixture(scope="module")
def baseline_result(fixtures_result):
    """The fixtures' result as the baseline comparison gives it: a change on every finding, the
    baseline's file and counts, and a finding resolved since."""
    result = scan_terraform([ROOT / "terraform-fixtures" / "public-pacs-export"], fixtures_result.policies)
    for finding in result.findings:
        if finding["status"] in ("FAIL", "UNKNOWN"):
            finding["change"] = "new" if finding["policy_id"] == "storage-no-public-read" else "unchanged"
    passed = next(f for f in result.findings if f["status"] == "PASS")
    resolved = {
        **passed,
        "status": "FAIL",
        "resource": {**passed["resource"], "name": "retired-teaching-bucket"},
    }
    changes = Counter(f.get("change") for f in result.findings)
    result.baseline = {  # type: ignore[attr-defined]
        "file": "baseline.json",
        "counts": {"new": changes["new"], "unchanged": changes["unchanged"], "resolved": 1},
        "resolved": [resolved],
    }
    return result


# Escaping


def test_html_text_is_safe_in_text_and_in_attributes():
    assert html_text(ATTRIBUTE_NAME) == "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
    assert html_text("it's") == "it&#x27;s"
    assert html_text("&lt;") == "&amp;lt;"  # shown as the five characters it is
    assert html_text("a\u2028b\u202ec\nd") == "a\\u2028b\\u202ec\\x0ad"
    assert html_text("lone \ud800").encode("utf-8") == b"lone \\ud800"
    assert html_text("x" * 3000).endswith("…") and len(html_text("x" * 3000)) == 2001
    assert html_lines('resource {\n  a = "<b>"\n}') == "resource {\n  a = &quot;&lt;b&gt;&quot;\n}"


def test_script_json_cannot_end_its_element_and_reads_back_unchanged():
    data = {"names": [SCRIPT_NAME, ATTRIBUTE_NAME, SEPARATOR_NAME, "<!-- a & b -->", "\u2029"]}
    encoded = script_json(data)
    for character in ("<", ">", "&", "\u2028", "\u2029"):
        assert character not in encoded
    assert json.loads(encoded) == data


def test_every_input_string_reaches_the_reader_as_text(hostile_page):
    assert SCRIPT_NAME not in hostile_page
    assert "<img" not in hostile_page
    assert "\u2028" not in hostile_page and "\u202e" not in hostile_page
    # Two scripts: the data and the filters. Nothing from input opened a third.
    assert len(re.findall("<script", hostile_page, re.I)) == 2
    page = Elements(hostile_page)
    archives = [text(h) for h in page.find("h3") if text(h).startswith("Open")]
    assert archives == [f"Open {SCRIPT_NAME}"]
    names = {text(s) for s in page.find("strong", class_="name")}
    assert {SCRIPT_NAME, ATTRIBUTE_NAME, "line\\u2028break &lt;b&gt; \\u202eright-to-left"} <= names
    assert not [(e["tag"], a) for e in page.all for a in e["attrs"] if a.startswith("on")]
    (data,) = page.find("script", type="application/json")
    assert not set(text(data)) & set("<>&\u2028\u2029")
    assert any(SCRIPT_NAME.lower() in row["text"] for row in json.loads(text(data))["rows"])


def test_a_custom_policy_is_input_too(hostile_page):
    page = Elements(hostile_page)
    titles = [text(h) for h in page.find("h3") if "buckets keep versions" in text(h)]
    assert titles == ["low <script>document.title='pwned'</script> buckets keep versions"]
    assert "Fix: </style><script>alert(1)</script>" in {text(p) for p in page.find("p")}
    assert "aws <b>\n&amp; next" in {text(p) for p in page.find("pre")}
    # A reference that would break out of its attribute is shown, not linked.
    links = [a["attrs"]["href"] for a in page.find("a") if not a["attrs"]["href"].startswith("#")]
    assert "https://example.org/ok" in links
    assert not [link for link in links if 'example.org/"' in link]
    assert page.find("tr", **{"data-safeguard": "164.312(c)<img src=x>"})


# Nothing is fetched


FETCHING_TAGS = {
    "link",
    "img",
    "iframe",
    "frame",
    "object",
    "embed",
    "source",
    "video",
    "audio",
    "track",
    "base",
}
FETCHING_ATTRIBUTES = {
    "src",
    "srcset",
    "poster",
    "action",
    "formaction",
    "background",
    "data",
    "xlink:href",
    "ping",
}


@pytest.mark.parametrize("which", ["fixtures_page", "hostile_page"])
def test_the_page_fetches_nothing_and_its_policy_says_so(which, request):
    source = request.getfixturevalue(which)
    page = Elements(source)
    (csp,) = [
        m["attrs"]["content"]
        for m in page.find("meta")
        if m["attrs"].get("http-equiv") == "Content-Security-Policy"
    ]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'none'"
    assert "unsafe" not in csp and "http" not in csp and "*" not in csp
    (style,) = page.find("style")
    (script,) = [s for s in page.find("script") if "type" not in s["attrs"]]
    assert directives["style-src"] == f"'{sha256(text(style))}'"
    assert directives["script-src"] == f"'{sha256(text(script))}'"
    assert page.find("meta")[0]["attrs"] == {
        "charset": "utf-8"
    }  # the policy comes before anything it governs
    assert not [e["tag"] for e in page.all if e["tag"] in FETCHING_TAGS]
    assert not [(e["tag"], a) for e in page.all for a in e["attrs"] if a in FETCHING_ATTRIBUTES]
    assert not [e for e in page.all if "href" in e["attrs"] and e["tag"] != "a"]
    for a in page.find("a"):  # a link is followed on a click only, to a new tab, without a referrer
        href = a["attrs"]["href"]
        assert href.startswith("#") or (
            href.startswith("https://") and a["attrs"]["rel"] == "noopener noreferrer"
        )
    assert "url(" not in text(style) and "@import" not in text(style)
    for call in (
        "fetch(",
        "XMLHttpRequest",
        "import(",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "http",
    ):
        assert call not in text(script)


def sha256(body: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()


# What the page says


def test_counts_equal_the_summary(fixtures_result, fixtures_page):
    summary = summarise(
        fixtures_result.findings, len(fixtures_result.resources), error_count(fixtures_result)
    )
    page = Elements(fixtures_page)
    assert tiles(page) == {
        "resources": summary["resources"],
        "errors": summary["errors"],
        **summary["results"],
    }
    severity = {
        g["attrs"]["data-label"]: int(g["attrs"]["data-value"]) for g in _chart(page, "chart-severity")
    }
    assert severity == summary["failed_by_severity"]
    providers = {
        g["attrs"]["data-label"]: int(g["attrs"]["data-value"]) for g in _chart(page, "chart-provider")
    }
    assert providers == Counter(
        f["resource"]["provider"] for f in fixtures_result.findings if f["status"] == "FAIL"
    )
    categories = {
        g["attrs"]["data-label"]: int(g["attrs"]["data-value"]) for g in _chart(page, "chart-category")
    }
    assert sum(categories.values()) == summary["results"]["FAIL"]
    rows = page.find("tr", class_="finding")
    listed = [f for f in fixtures_result.findings if f["status"] != "NOT_APPLICABLE"]
    assert Counter(r["attrs"]["data-status"] for r in rows) == Counter(f["status"] for f in listed)
    # Without a script, what failed, is unknown or is muted is shown; passes are counted, not shown.
    assert {r["attrs"]["data-status"] for r in visible_rows(page)} == {"FAIL", "UNKNOWN"}
    assert all(r["attrs"]["data-status"] == "PASS" for r in rows if "hidden" in r["attrs"])


def tiles(page: Elements, key: str = "data-count") -> dict[str, int]:
    """The number in each tile (its <dd>), by the tile's `key` attribute."""
    out = {}
    for tile in page.find(class_="tile"):
        if key in tile["attrs"]:
            index = page.all.index(tile)
            out[tile["attrs"][key]] = int(text(next(e for e in page.all[index:] if e["tag"] == "dd")))
    return out


def policies_and_rows(page: Elements) -> list[tuple[dict, list[dict]]]:
    """Each policy's article with the rows inside it."""
    out: list[tuple[dict, list[dict]]] = []
    for element in page.all:
        if element["tag"] == "article":
            out.append((element, []))
        elif element["tag"] == "tr" and "finding" in element["attrs"].get("class", "") and out:
            out[-1][1].append(element)
    return out


def _chart(page: Elements, chart_id: str) -> list[dict]:
    index = page.all.index(page.find("svg", id=chart_id)[0])
    out = []
    for element in page.all[index + 1 :]:
        if element["tag"] == "svg":
            break
        if element["tag"] == "g":
            out.append(element)
    return out


def test_hipaa_safeguards_count_the_results_of_the_policies_citing_them(fixtures_result, fixtures_page):
    page = Elements(fixtures_page)
    expected: dict[str, Counter] = {}
    for finding in fixtures_result.findings:
        for control in finding["compliance"].get("hipaa", []):
            expected.setdefault(control, Counter())[finding["status"]] += 1
    for control, counts in expected.items():
        (row,) = page.find("tr", **{"data-safeguard": control})
        index = page.all.index(row)
        cells = [text(e) for e in page.all[index + 1 : index + 8] if e["tag"] == "td"]
        assert [int(c) for c in cells[-4:]] == [counts[s] for s in ("FAIL", "UNKNOWN", "PASS", "MUTED")], (
            control
        )
    assert "Access control" in fixtures_page


def test_archives_of_patient_data_come_first_in_plain_words(fixtures_page):
    page = Elements(fixtures_page)
    sections = [s["attrs"]["id"] for s in page.find("section")]
    assert sections[:2] == ["glance", "archives"]
    archives = page.find("li", class_="archive")
    states = [a["attrs"]["class"].split()[1] for a in archives]
    assert states == sorted(states, key=["exposed", "shared", "unknown", "closed"].index)
    (exports,) = [a for a in archives if "pacs-exports-prod" in text(a) and "exposed" in a["attrs"]["class"]]
    assert "Anyone on the internet can read its objects." in text(exports)
    assert "Its labels classify it as PHI." in text(exports)
    (unknown,) = [a for a in archives if "var-file-override" in text(a)]
    assert "unknown" in unknown["attrs"]["class"]
    assert "The scan could not tell whether other accounts can read it." in text(unknown)
    stores = [a for a in archives if "DICOM store" in text(a)]
    assert any("Anyone signed in to the cloud provider" in text(s) for s in stores)


def test_findings_come_failed_and_unknown_first_by_severity_with_the_fix(fixtures_page):
    page = Elements(fixtures_page)
    order = []
    for article in page.find("article", class_="policy"):
        statuses = {s.split()[-1] for s in re.findall(r"\d+ (FAIL|UNKNOWN|MUTED|PASS)", text(article))}
        severity = article["attrs"]["class"].split()[1].removeprefix("sev-")
        order.append(
            (
                0 if statuses & {"FAIL", "UNKNOWN"} else 1 if "MUTED" in statuses else 2,
                SEVERITIES.index(severity),
            )
        )
    assert order == sorted(order) and order[0] == (0, 0)
    public_read = next(a for a in page.find("article") if "storage-no-public-read" in text(a))
    assert "put-public-access-block" in text(public_read)  # the AWS CLI fix, in a <pre>
    assert "Policy.Statement[0]" in text(public_read)  # evidence with its origin
    assert any("put-public-access-block" in text(p) for p in page.find("pre"))


def test_a_baseline_shows_what_is_new_unchanged_and_resolved(baseline_result):
    page = Elements(html.render(baseline_result))
    counts = tiles(page, "data-change-count")
    assert counts == baseline_result.baseline["counts"]
    (section,) = page.find("section", id="changes")
    assert "retired-teaching-bucket" in text(section)
    assert "Bucket objects are not readable by anyone" in text(section)
    new_rows = [r for r in page.find("tr", class_="finding") if "new" in text(r)]
    assert len(new_rows) == counts["new"] > 0
    assert page.find("input", name="change", value="new")


def test_without_a_baseline_there_is_no_change_section(fixtures_page):
    page = Elements(fixtures_page)
    assert not page.find("section", id="changes")
    assert not page.find("input", name="change")


def test_the_command_line_writes_html(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli,
        ["scan", "terraform", "terraform-fixtures/public-pacs-export", "--format", "html", "-o", str(out)],
    )
    assert result.exit_code == 1, result.output  # a FAIL at or above --fail-on low
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert Format("html") is Format.HTML


# In a real browser


@pytest.fixture(scope="module")
def browser():
    return require_chromium()


def open_page(page_source: str, directory: Path, fragment: str = "") -> tuple[Elements, list[str]]:
    path = directory / "report.html"
    path.write_text(page_source, encoding="utf-8")
    page = load(path.as_uri() + fragment)
    return Elements(page.dom), page.console


@pytest.mark.slow
def test_browser_shows_the_counts_and_the_default_view(browser, fixtures_result, fixtures_page, tmp_path):
    page, console = open_page(fixtures_page, tmp_path)
    assert console == []
    summary = summarise(
        fixtures_result.findings, len(fixtures_result.resources), error_count(fixtures_result)
    )
    assert tiles(page) == {
        "resources": summary["resources"],
        "errors": summary["errors"],
        **summary["results"],
    }
    (shown,) = page.find("p", id="shown")
    listed = [f for f in fixtures_result.findings if f["status"] in ("FAIL", "UNKNOWN", "MUTED")]
    assert int(shown["attrs"]["data-shown"]) == len(visible_rows(page)) == len(listed)
    # The script's default view is the view without a script: the same rows.
    assert [r["attrs"]["id"] for r in visible_rows(page)] == [
        r["attrs"]["id"] for r in visible_rows(Elements(fixtures_page))
    ]
    (filters,) = page.find("form", id="filters")
    assert "hidden" not in filters["attrs"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "fragment, keep",
    [
        ("#severity=critical&status=FAIL", lambda f: f["severity"] == "critical" and f["status"] == "FAIL"),
        (
            "#provider=gcp,azure&status=UNKNOWN",
            lambda f: f["resource"]["provider"] in ("gcp", "azure") and f["status"] == "UNKNOWN",
        ),
        (
            "#status=PASS&q=pacs-exports",
            lambda f: (
                f["status"] == "PASS"
                and "pacs-exports" in (f["resource"]["name"] + f["resource"]["id"]).lower()
            ),
        ),
    ],
)
def test_browser_filters_from_the_fragment(browser, fixtures_result, fixtures_page, tmp_path, fragment, keep):
    page, console = open_page(fixtures_page, tmp_path, fragment)
    assert console == []
    expected = [f for f in fixtures_result.findings if keep(f)]
    rows = visible_rows(page)
    assert len(rows) == len(expected) > 0
    assert Counter(
        (r["attrs"]["data-severity"], r["attrs"]["data-status"], r["attrs"]["data-provider"]) for r in rows
    ) == Counter((f["severity"], f["status"], f["resource"]["provider"]) for f in expected)
    (shown,) = page.find("p", id="shown")
    assert int(shown["attrs"]["data-shown"]) == len(expected)
    # A policy with no row left is hidden with its rows.
    for article, inside in policies_and_rows(page):
        assert ("hidden" in article["attrs"]) == all("hidden" in r["attrs"] for r in inside)


@pytest.mark.slow
def test_browser_runs_no_script_from_input(browser, hostile_result, hostile_page, tmp_path):
    page, console = open_page(hostile_page, tmp_path, "#status=FAIL,UNKNOWN,MUTED,PASS")
    assert console == []  # no error, and no refused inline script either
    title = page.find("title")[0]  # the document's, before the charts' own
    assert text(title) == f"cloudscan report: terraform scan of {hostile_result.started_at[:10]}"
    assert "pwned" not in text(title)
    names = {text(s) for s in page.find("strong", class_="name")}
    assert SCRIPT_NAME in names and ATTRIBUTE_NAME in names
    assert not page.find("img")
    assert len(page.find("script")) == 2


@pytest.mark.slow
def test_browser_filters_by_change_since_the_baseline(browser, baseline_result, tmp_path):
    page, console = open_page(html.render(baseline_result), tmp_path, "#change=new")
    assert console == []
    rows = visible_rows(page)
    assert len(rows) == baseline_result.baseline["counts"]["new"] > 0
    assert all("new" in text(r) for r in rows)


def test_render_dispatches_html(fixtures_result, fixtures_page):
    assert render(Format.HTML, fixtures_result) == fixtures_page
