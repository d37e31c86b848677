"""Showing text that came from input: a Terraform string, an object key, a server's answer.

A newline inside a policy's Sid must not forge a line in a report ("FAKE LINE: all checks
passed"), and a terminal escape must not recolour one: control characters, Unicode line and
paragraph separators and bidirectional overrides are shown as escapes, and the text is capped.
A lone surrogate (a .tf.json string may hold "\\ud800") is shown as an escape too: no encoder
can write it, so left as it is it would stop a report from being written at all.
"""

from __future__ import annotations

import html
import json
import re

MAX_SHOWN = 2_000
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def escape(text: object, limit: int = MAX_SHOWN) -> str:
    """`text` on one line, every unsafe character written as \\xNN or \\uNNNN, at most
    `limit` characters (an ellipsis says when it was cut)."""
    shown = _UNSAFE.sub(_escaped, str(text))
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# A lone surrogate (from a JSON string such as "\ud800") cannot be written as UTF-8 at all.
_SURROGATE = re.compile("[\ud800-\udfff]")


def html_text(text: object, limit: int = MAX_SHOWN) -> str:
    """`text` for an HTML page, safe both as element content and as a double- or single-quoted
    attribute value: escaped and capped as above, then `& < > " '` as character references."""
    return html.escape(_SURROGATE.sub(_escaped, escape(text, limit)), quote=True)


def html_lines(text: object, limit: int = MAX_SHOWN) -> str:
    """Several lines (a Terraform block, a CLI command) for a <pre>: each line as html_text,
    the newlines kept; at most `limit` characters of `text` in all."""
    raw = str(text)
    shown = "\n".join(html_text(line, limit) for line in raw[:limit].split("\n"))
    return shown + ("…" if len(raw) > limit else "")


def script_json(data: object) -> str:
    """JSON for the inside of <script type="application/json">: `<`, `>` and `&` as \\u escapes,
    so no `</script>` or `<!--` in a bucket name can end or change the element, and every
    character outside ASCII (U+2028 and U+2029 included) as a \\u escape. JSON.parse reads it
    back unchanged."""
    encoded = json.dumps(data, ensure_ascii=True, separators=(",", ":"), default=str)
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
