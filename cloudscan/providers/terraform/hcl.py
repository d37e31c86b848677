"""HCL and Terraform JSON files read into plain bodies, with expressions kept unevaluated.

HCL is parsed with tree-sitter's HCL grammar, which accepts what Terraform writes in the wild
(CRLF line ends, a byte-order mark, comments inside expressions, conditionals broken over
lines) and keeps every node's position for SARIF. A body is a dict: an attribute maps to an
`Expr` (evaluated later, when every file of the module is known), a block type to a list of
bodies, and labels nest as python-hcl2 nested them (`resource` -> [{type: {name: body}}]).
Each block body carries `__start_line__` and `__end_line__`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Deeper than any configuration a person writes; past it a file is refused, so that recursion
# over a hostile file's blocks or expressions stays bounded.
MAX_NESTING = 64


class HclError(Exception):
    """The file is not valid HCL (or Terraform JSON); `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, eq=False)
class Expr:
    """An expression as written: a tree-sitter node, and the bytes it was parsed from."""

    node: Any
    source: bytes
    strip_newline: bool = False  # a .tf.json string read as a heredoc: its last newline is not its own

    @property
    def line(self) -> int:
        return int(self.node.start_point[0]) + 1

    @property
    def text(self) -> str:
        return self.source[self.node.start_byte : self.node.end_byte].decode("utf-8", "replace")


_PARSER: Any = None


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        import tree_sitter
        import tree_sitter_hcl

        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
    return _PARSER


def parse_hcl(data: bytes) -> dict[str, Any]:
    """A file's top-level body. Raises HclError naming the first line that does not parse."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    tree = _parser().parse(data)
    if tree.root_node.has_error:
        # What the grammar misses (1e9, 1e+09) and what other readers take as text
        # ("%{suffix}" that is no directive): read again with those written plainly, on
        # the same lines, so positions stay right.
        lenient = _lenient(data)
        if lenient != data:
            retried = _parser().parse(lenient)
            if not retried.root_node.has_error:
                data, tree = lenient, retried
    root = tree.root_node
    if root.has_error:
        bad = _first_error(root)
        line = int(bad.start_point[0]) + 1 if bad is not None else None
        shown = (
            data[bad.start_byte : bad.end_byte].split(b"\n")[0][:40].decode("utf-8", "replace")
            if bad is not None
            else ""
        )
        what = f"missing {bad.type!r}" if bad is not None and bad.is_missing else f"unexpected {shown!r}"
        raise HclError(f"does not parse: {what}", line)
    body = next((c for c in root.named_children if c.type == "body"), None)
    if body is None:
        return {}
    return _body(body, data, 0)


_NUMBER_WITHOUT_FRACTION = re.compile(rb"(?<=[\s=,(\[:?])(-?\d+)([eE][+-]?\d+)(?=[\s,)\]}])")
_NOT_A_DIRECTIVE = re.compile(rb"(?<!%)%\{(?!~?\s*(?:if|for|else|endif|endfor)\b)")


def _lenient(data: bytes) -> bytes:
    """Exponents get a fraction outside quoted strings only; a "%{" that is no directive is
    written "%%{" (it is only ever inside strings)."""
    pieces = re.split(rb'("(?:[^"\\\n]|\\.)*")', data)
    data = b"".join(
        piece if index % 2 else _NUMBER_WITHOUT_FRACTION.sub(rb"\1.0\2", piece)
        for index, piece in enumerate(pieces)
    )
    return _NOT_A_DIRECTIVE.sub(b"%%{", data)


def parse_expression(text: str) -> Expr:
    """One expression written in HCL's native syntax."""
    data = b"x = " + text.encode("utf-8")
    tree = _parser().parse(data)
    if tree.root_node.has_error:
        raise HclError(f"not a valid expression: {text[:40]!r}")
    attribute = tree.root_node.named_children[0].named_children[0]
    return Expr(attribute.named_children[-1], data)


def parse_template(text: str) -> Expr:
    """A string of a .tf.json file, which Terraform reads as a template: "${var.x}" alone is
    the expression itself (keeping its type); anything else is read as a heredoc's body."""
    inner = text[2:-1]
    if text.startswith("${") and text.endswith("}") and "${" not in inner and "%{" not in inner:
        try:
            return parse_expression(inner)
        except HclError:
            pass
    marker = "CLOUDSCAN_JSON_TEMPLATE"
    while marker in text:
        marker += "_"
    data = f"x = <<{marker}\n{text}\n{marker}\n".encode()
    tree = _parser().parse(data)
    if tree.root_node.has_error:
        raise HclError(f"not a valid template: {text[:40]!r}")
    attribute = tree.root_node.named_children[0].named_children[0]
    return Expr(attribute.named_children[-1], data, strip_newline=True)


def _first_error(node: Any) -> Any:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error or child.is_missing:
            return _first_error(child)
    return None


def _body(node: Any, source: bytes, depth: int) -> dict[str, Any]:
    if depth > MAX_NESTING:
        raise HclError(f"blocks nested deeper than {MAX_NESTING}", int(node.start_point[0]) + 1)
    out: dict[str, Any] = {}
    for child in node.named_children:
        if child.type == "attribute":
            name = _text(child.named_children[0], source)
            expression = next(c for c in child.named_children if c.type == "expression")
            out[name] = Expr(expression, source)
        elif child.type == "block":
            _block(child, source, depth, out)
    return out


def _block(node: Any, source: bytes, depth: int, out: dict[str, Any]) -> None:
    block_type, labels, inner = "", [], None
    for child in node.named_children:
        if child.type == "identifier" and not block_type:
            block_type = _text(child, source)
        elif child.type == "identifier":
            labels.append(_text(child, source))
        elif child.type == "string_lit":
            labels.append(_string_label(child, source))
        elif child.type == "body":
            inner = child
    body = _body(inner, source, depth + 1) if inner is not None else {}
    body["__start_line__"] = int(node.start_point[0]) + 1
    body["__end_line__"] = int(node.end_point[0]) + 1
    value: Any = body
    for label in reversed(labels):
        value = {label: value}
    out.setdefault(block_type, []).append(value)


def _string_label(node: Any, source: bytes) -> str:
    children = node.children
    if len(children) < 2:
        return ""
    return unescape(source[children[0].end_byte : children[-1].start_byte].decode("utf-8", "replace"))


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def unescape(raw: str) -> str:
    """The escapes of a quoted HCL string (\\n, \\", \\uNNNN, \\UNNNNNNNN) as characters."""
    if "\\" not in raw:
        return raw
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            width = 4 if nxt == "u" else 8 if nxt == "U" else 0
            if width:
                try:
                    code = int(raw[i + 2 : i + 2 + width], 16)
                    # A lone surrogate is no character: it could not even be written to a report.
                    out.append("\ufffd" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else chr(code))
                    i += 2 + width
                    continue
                except ValueError:
                    pass
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _text(node: Any, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


# -- Terraform JSON (.tf.json) -------------------------------------------------------------------


def from_json(value: Any, depth: int = 0) -> Any:
    """A .tf.json value with each string made a template expression, as Terraform reads it."""
    if depth > MAX_NESTING:
        raise HclError(f"values nested deeper than {MAX_NESTING}")
    if isinstance(value, str):
        if "${" not in value and "%{" not in value:
            return value
        return parse_template(value)
    if isinstance(value, list):
        return [from_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: from_json(v, depth + 1) for k, v in value.items() if k != "//"}
    return value
