"""A small evaluator for the Terraform expressions python-hcl2 hands back as "${...}" strings.

It covers what configuration of buckets, policies and firewalls uses: literals, lists and
objects, references (var., local., data., each., count., resource attributes), string
templates and a few functions (jsonencode, jsondecode, format, lower, upper, concat, merge,
join, tostring, tolist, toset). Anything else evaluates to Unknown with the reason, so a
value that cannot be worked out is never guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be known from the configuration alone."""

    reason: str


@dataclass(frozen=True)
class Index:
    """A `[key]` step of a traversal, told apart from a `.name` step."""

    key: Any


class Unsupported(Exception):
    """The expression uses syntax this evaluator does not cover."""


# A reference resolver gets the parts of a traversal (["var", "name"], ["aws_s3_bucket", "b",
# Index(0), "arn"]) and returns the value, or Unknown.
Resolver = Callable[[list[Any]], Any]

TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<punct>[()\[\]{},:=.])
  | (?P<other>\S)
""", re.VERBOSE)


def evaluate(value: Any, resolve: Resolver) -> Any:
    """Evaluate a value as python-hcl2 returns it: nested dicts and lists, with strings that
    may hold templates."""
    if isinstance(value, str):
        return _template(value, resolve)
    if isinstance(value, list):
        return [evaluate(v, resolve) for v in value]
    if isinstance(value, dict):
        out = {k: evaluate(v, resolve) for k, v in value.items() if not k.startswith("__") and k != "dynamic"}
        for label, spec in _dynamic_specs(value.get("dynamic")):
            blocks = out.get(label)
            blocks = [blocks] if isinstance(blocks, dict) else list(blocks or [])
            out[label] = blocks + _expand_dynamic(label, spec, resolve)
        return out
    return value


def _dynamic_specs(raw: Any) -> list[tuple[str, dict[str, Any]]]:
    entries = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    return [(label, spec) for entry in entries for label, spec in entry.items() if isinstance(spec, dict)]


def _expand_dynamic(label: str, spec: dict[str, Any], resolve: Resolver) -> list[Any]:
    """The blocks a `dynamic "label"` block generates: one per for_each item, its content
    evaluated with the iterator (the label, or `iterator = name`) bound to key and value."""
    iterator = str(spec.get("iterator") or label).removeprefix("${").removesuffix("}")
    contents = spec.get("content")
    content = contents[0] if isinstance(contents, list) and contents else contents or {}
    items = evaluate(spec.get("for_each"), resolve)
    if isinstance(items, dict) and is_known(list(items)):
        pairs = list(items.items())
    elif isinstance(items, list):
        pairs = list(enumerate(items))
    else:
        reason = items.reason if isinstance(items, Unknown) else "for_each is not a map or list"
        pairs = [(Unknown(reason), Unknown(reason))]  # judged once, with what depends on it unknown

    def bound(key: Any, item: Any) -> Resolver:
        def resolve_here(parts: list[Any]) -> Any:
            if parts[0] != iterator:
                return resolve(parts)
            return dig({"key": key, "value": item}, parts[1:])
        return resolve_here

    return [evaluate(content, bound(key, item)) for key, item in pairs]


def as_bool(value: Any, default: bool | None = None) -> bool | Unknown | None:
    """A bool the way Terraform converts one: true/false, or the strings "true"/"false"."""
    if value is None:
        return default
    if isinstance(value, bool | Unknown):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return Unknown(f"{value!r} is not a boolean")


def as_int(value: Any) -> int | Unknown | None:
    """A whole number the way Terraform converts one: 104 or "104"."""
    if value is None or (isinstance(value, int | Unknown) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return Unknown(f"{value!r} is not a whole number")


def dig(value: Any, path: list[Any]) -> Any:
    """Follow `.name` and `[key]` steps into a value; Unknown where one leads nowhere."""
    for step in path:
        part = step.key if isinstance(step, Index) else step
        if isinstance(value, Unknown):
            return value
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return Unknown(f"no {part!r} in the value")
    return value


def is_known(value: Any) -> bool:
    if isinstance(value, Unknown):
        return False
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    return True


def first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for child in children:
        found = first_unknown(child)
        if found:
            return found
    return None


def _template(text: str, resolve: Resolver) -> Any:
    parts = _split_template(text)
    if len(parts) == 1 and isinstance(parts[0], _Expr):
        return _expression(parts[0].source, resolve)
    out = []
    for part in parts:
        if isinstance(part, _Expr):
            value = _expression(part.source, resolve)
            if isinstance(value, Unknown):
                return value
            try:
                out.append(_as_string(value))
            except Unsupported as exc:
                return Unknown(f"${{{part.source.strip()}}} in a string: {exc}")
        else:
            out.append(part)
    return "".join(out)


@dataclass(frozen=True)
class _Expr:
    source: str


def _split_template(text: str) -> list[str | _Expr]:
    """Literal text and ${...} interpolations, braces and quotes nested inside respected."""
    parts: list[str | _Expr] = []
    literal, i = [], 0
    while i < len(text):
        if text.startswith("$${", i):  # an escaped, literal "${"
            literal.append("${")
            i += 3
        elif text.startswith("${", i):
            end = _matching_brace(text, i + 1)
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_Expr(text[i + 2:end]))
            i = end + 1
        else:
            literal.append(text[i])
            i += 1
    if literal or not parts:
        parts.append("".join(literal))
    return parts


def _matching_brace(text: str, start: int) -> int:
    depth, i, quoted = 0, start, False
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise Unsupported("unbalanced braces")


def _expression(source: str, resolve: Resolver) -> Any:
    try:
        parser = _Parser(source, resolve)
        value = parser.parse()
    except Unsupported as exc:
        return Unknown(f"${{{source.strip()}}} is not supported ({exc})")
    return value


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        raise Unsupported("a list or object inside a string")
    return str(value)


class _Parser:
    """Recursive descent over one expression, evaluating as it goes."""

    def __init__(self, source: str, resolve: Resolver) -> None:
        self.source, self.resolve, self.pos = source, resolve, 0

    def parse(self) -> Any:
        value = self.value()
        self._skip_ws()
        if self.pos != len(self.source):
            raise Unsupported(f"unexpected {self.source[self.pos:self.pos + 12]!r}")
        return value

    # -- tokens ---------------------------------------------------------------------------
    def _skip_ws(self) -> None:
        while self.pos < len(self.source) and self.source[self.pos].isspace():
            self.pos += 1

    def _peek(self) -> str:
        self._skip_ws()
        return self.source[self.pos] if self.pos < len(self.source) else ""

    def _expect(self, ch: str) -> None:
        if self._peek() != ch:
            raise Unsupported(f"expected {ch!r}")
        self.pos += 1

    def _token(self) -> tuple[str, str]:
        self._skip_ws()
        match = TOKEN.match(self.source, self.pos)
        if not match:
            raise Unsupported("end of expression")
        self.pos = match.end()
        return match.lastgroup or "", match.group()

    # -- grammar --------------------------------------------------------------------------
    def value(self) -> Any:
        ch = self._peek()
        if ch == '"':
            return self._string()
        if ch == "[":
            return self._list()
        if ch == "{":
            return self._object()
        if ch == "(":
            self.pos += 1
            inner = self.value()
            self._expect(")")
            return inner
        kind, text = self._token()
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind != "name":
            raise Unsupported(f"operator {text!r}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self._peek() == "(":
            return self._call(text)
        return self._traversal(text)

    def _string(self) -> Any:
        start = self.pos
        self.pos += 1
        raw = []
        while self.pos < len(self.source):
            ch = self.source[self.pos]
            if ch == "\\":
                raw.append(self.source[self.pos:self.pos + 2])
                self.pos += 2
                continue
            if ch == "$" and self.source.startswith("${", self.pos):
                end = _matching_brace(self.source, self.pos + 1)
                raw.append(self.source[self.pos:end + 1])
                self.pos = end + 1
                continue
            self.pos += 1
            if ch == '"':
                return _template(_unescape("".join(raw)), self.resolve)
            raw.append(ch)
        raise Unsupported(f"unterminated string at {start}")

    def _list(self) -> list[Any]:
        self._expect("[")
        items = []
        while self._peek() != "]":
            if self.source.startswith("for ", self.pos):
                raise Unsupported("for expression")
            items.append(self.value())
            if self._peek() == ",":
                self.pos += 1
        self._expect("]")
        return items

    def _object(self) -> dict[str, Any]:
        self._expect("{")
        out: dict[str, Any] = {}
        while self._peek() != "}":
            if self.source.startswith("for ", self.pos):
                raise Unsupported("for expression")
            key = self._string() if self._peek() == '"' else self._token()[1]
            if self._peek() not in (":", "="):
                raise Unsupported("object key without value")
            self.pos += 1
            out[str(key)] = self.value()
            if self._peek() == ",":
                self.pos += 1
        self._expect("}")
        return out

    def _call(self, name: str) -> Any:
        self._expect("(")
        args = []
        while self._peek() != ")":
            args.append(self.value())
            if self._peek() == ",":
                self.pos += 1
        self._expect(")")
        function = FUNCTIONS.get(name)
        if function is None:
            raise Unsupported(f"function {name}()")
        unknown = first_unknown(args)
        if unknown:
            return unknown
        try:
            return function(*args)
        except Exception as exc:  # a wrong argument is the configuration's problem, not ours
            return Unknown(f"{name}() cannot be evaluated here: {type(exc).__name__}")

    def _traversal(self, root: str) -> Any:
        parts: list[Any] = [root]
        while True:
            ch = self._peek()
            if ch == "." and self.source.startswith(".*", self.pos):
                raise Unsupported("splat expression")
            if ch == ".":
                self.pos += 1
                kind, text = self._token()
                if kind not in ("name", "number"):
                    raise Unsupported(f"attribute {text!r}")
                parts.append(int(text) if kind == "number" else text)
            elif ch == "[":
                self.pos += 1
                index = self.value()
                self._expect("]")
                parts.append(index if isinstance(index, Unknown) else Index(index))
            else:
                break
        unknown = first_unknown(parts)
        return unknown if unknown else self.resolve(parts)


def _unescape(raw: str) -> str:
    out, i = [], 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            out.append(escapes.get(raw[i + 1], raw[i + 1]))
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def _format(spec: str, *args: Any) -> str:
    values = iter(args)
    return re.sub(r"%[sdv%]", lambda m: "%" if m.group() == "%%" else _as_string(next(values)), spec)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "jsondecode": lambda s: json.loads(s),
    "format": _format,
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "tostring": _as_string,
    "tolist": list,
    "toset": lambda v: sorted(set(v), key=str),
    "concat": lambda *lists: [x for lst in lists for x in lst],
    "merge": lambda *maps: {k: v for m in maps for k, v in m.items()},
    "join": lambda sep, items: sep.join(_as_string(i) for i in items),
}
