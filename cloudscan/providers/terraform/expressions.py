"""Values of Terraform configuration: evaluating the expressions of parsed files.

`evaluate` walks a body as `hcl.py` reads it and evaluates each `Expr` with a resolver for
references (var., local., each., resource attributes...). The language is covered as written:
literals, templates with their directives, operators, conditionals, `for` expressions, splats,
indexes, and the functions of `functions.py`. A value that cannot be worked out from the files
is `Unknown` with the reason; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudscan.providers.terraform.hcl import Expr


@dataclass(frozen=True, eq=False)
class Unknown:
    """A value that cannot be known from the configuration alone. `error` marks a value that
    is wrong rather than not known (a missing key, a bad argument): what `try` and `can` catch.
    Two unknown values are never equal: nothing is known of either."""

    reason: str
    error: bool = False


@dataclass(frozen=True)
class Index:
    """A `[key]` step of a traversal, told apart from a `.name` step."""

    key: Any


class Reference:
    """A value a resolver hands back that is not data: a resource instance whose attributes
    are looked up one at a time. `attribute` returns the value or Unknown."""

    def attribute(self, name: str) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class UnknownBlock(dict[str, Any]):
    """A block whose content is not known (`ingress = [for p in var.unset : {...}]`): every
    argument read from it is Unknown with the same reason, so nothing in it is taken as absent."""

    def __init__(self, unknown: Unknown) -> None:
        super().__init__()
        self.unknown = unknown

    def get(self, key: str, default: Any = None) -> Any:
        return self.unknown

    def __missing__(self, key: str) -> Any:
        return self.unknown


# A reference resolver gets the parts of a traversal (["var", "name"], ["aws_s3_bucket", "b",
# Index(0), "arn"]) and returns the value, or Unknown.
Resolver = Callable[[list[Any]], Any]


def evaluate(value: Any, resolve: Resolver) -> Any:
    """Evaluate a body, a list of blocks, or one expression; other values are already final."""
    if isinstance(value, Expr):
        from cloudscan.providers.terraform.evaluator import evaluate_expression

        return evaluate_expression(value, resolve)
    if isinstance(value, list):
        return [evaluate(v, resolve) for v in value]
    if isinstance(value, dict):
        out = {k: evaluate(v, resolve) for k, v in value.items() if not k.startswith("__") and k != "dynamic"}
        for label, spec in dynamic_specs(value.get("dynamic")):
            blocks = out.get(label)
            blocks = [blocks] if isinstance(blocks, dict) else list(blocks or [])
            out[label] = blocks + _expand_dynamic(label, spec, resolve)
        return out
    return value


def dynamic_specs(raw: Any) -> list[tuple[str, dict[str, Any]]]:
    entries = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    return [
        (label, spec)
        for entry in entries
        if isinstance(entry, dict)
        for label, spec in entry.items()
        if isinstance(spec, dict)
    ]


def _expand_dynamic(label: str, spec: dict[str, Any], resolve: Resolver) -> list[Any]:
    """The blocks a `dynamic "label"` block generates: one per for_each item, its content
    evaluated with the iterator (the label, or `iterator = name`) bound to key and value."""
    iterator_spec = spec.get("iterator")
    iterator = iterator_spec.text.strip() if isinstance(iterator_spec, Expr) else str(iterator_spec or label)
    contents = spec.get("content")
    content = contents[0] if isinstance(contents, list) and contents else contents or {}
    items = evaluate(spec.get("for_each"), resolve)
    if isinstance(items, dict) and is_known(list(items)):
        pairs = list(items.items())
    elif isinstance(items, list):
        pairs = list(enumerate(items))
    else:
        # How many blocks, and what is in them, is not known: one block whose every argument is
        # unknown, never a block taken as written (it may not exist at all).
        reason = items.reason if isinstance(items, Unknown) else "for_each is not a map or list"
        return [UnknownBlock(Unknown(f'dynamic "{label}": {reason}'))]

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
    return Unknown(f"{value!r} is not a boolean", error=True)


def as_int(value: Any) -> int | Unknown | None:
    """A whole number the way Terraform converts one: 104 or "104"."""
    if value is None or (isinstance(value, int | Unknown) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return Unknown(f"{value!r} is not a whole number", error=True)


def dig(value: Any, path: list[Any]) -> Any:
    """Follow `.name` and `[key]` steps into a value; Unknown where one leads nowhere."""
    for step in path:
        if isinstance(value, Unknown):
            return value
        value = step_into(value, step)
    return value


def step_into(value: Any, step: Any) -> Any:
    """One `.name` (a str) or `[key]` (an Index) step, the way Terraform converts the key."""
    if isinstance(value, Unknown):
        return value
    key = step.key if isinstance(step, Index) else step
    if isinstance(key, Unknown):
        return key
    if isinstance(value, Reference):
        if isinstance(step, Index):
            return Unknown(f"{value.describe()} has no [{key!r}]: it is a single instance", error=True)
        return value.attribute(str(key))
    if isinstance(value, dict):
        if isinstance(key, bool) or not isinstance(key, str | int | float):
            return Unknown(f"a map key cannot be {type(key).__name__}", error=True)
        text = _key_text(key)
        return value[text] if text in value else Unknown(f"no {text!r} in the value", error=True)
    if isinstance(value, list):
        if isinstance(step, str) and not step.isdigit():
            return Unknown(f"a list has no attribute {step!r}", error=True)
        number = as_int(key)
        if isinstance(number, int) and 0 <= number < len(value):
            return value[number]
        return Unknown(f"index {key!r} is out of range", error=True)
    if value is None:
        return Unknown(f"{key!r} of a null value", error=True)
    return Unknown(f"{key!r} of a {type(value).__name__}", error=True)


def _key_text(key: Any) -> str:
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def settle(value: Any) -> Any:
    """A value with every Reference left in it (a whole resource object) made Unknown."""
    if isinstance(value, Reference):
        return first_unknown(value)
    if isinstance(value, list):
        return [settle(v) for v in value]
    if isinstance(value, dict):
        return {k: settle(v) for k, v in value.items()}
    return value


def is_known(value: Any) -> bool:
    return first_unknown(value) is None


def first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Reference):
        return Unknown(f"{value.describe()} as a whole object is not known before apply")
    if isinstance(value, UnknownBlock):
        return value.unknown
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        found = first_unknown(child)
        if found:
            return found
    return None
