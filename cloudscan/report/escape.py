"""Showing text that came from input: a Terraform string, an object key, a server's answer.

A newline inside a policy's Sid must not forge a line in a report ("FAKE LINE: all checks
passed"), and a terminal escape must not recolour one: control characters, Unicode line and
paragraph separators and bidirectional overrides are shown as escapes, and the text is capped.
A lone surrogate (a .tf.json string may hold "\\ud800") is shown as an escape too: no encoder
can write it, so left as it is it would stop a report from being written at all.
"""

from __future__ import annotations

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
