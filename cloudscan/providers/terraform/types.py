"""Variable type constraints, applied as Terraform applies them to a variable's value.

`type = object({ ranges = optional(list(string)), port = optional(number, 104) })` makes an
attribute the caller leaves out null, or its default: without this, `var.cfg.ranges` would be
"no 'ranges' in the value" instead of null, and `try(var.cfg.ranges, ["0.0.0.0/0"])` would take
the wrong branch. Primitive values are converted the way Terraform converts them ("104" for a
number is 104). A constraint this module cannot read leaves the value as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloudscan.providers.terraform.expressions import Unknown
from cloudscan.providers.terraform.hcl import Expr

MAX_DEPTH = 32


@dataclass(frozen=True)
class Type:
    kind: str  # string, number, bool, any, list, set, map, tuple, object
    element: Type | None = None
    elements: tuple[Type, ...] = ()
    attributes: tuple[tuple[str, Type, bool, Any], ...] = ()  # name, type, optional, default


ANY = Type("any")


def read_type(expr: Any) -> Type:
    """The type a `type = ...` argument describes; `any` for what cannot be read."""
    if not isinstance(expr, Expr):
        return ANY
    try:
        return _type(expr.node, expr.source, 0)
    except (ValueError, IndexError, RecursionError):
        return ANY


def _type(node: Any, source: bytes, depth: int) -> Type:
    if depth > MAX_DEPTH:
        raise ValueError("type nested too deeply")
    while node.type in ("expression",) and len([c for c in node.named_children]) == 1:
        node = node.named_children[0]
    if node.type == "variable_expr":
        name = _text(node, source)
        return Type(name if name in ("string", "number", "bool") else "any")
    if node.type != "function_call":
        return ANY
    name = _text(node.named_children[0], source)
    arguments = next((c for c in node.named_children if c.type == "function_arguments"), None)
    args = [c for c in arguments.named_children if c.type == "expression"] if arguments else []
    if name in ("list", "set", "map") and args:
        return Type(name, element=_type(args[0], source, depth + 1))
    if name == "tuple" and args:
        items = _collection(args[0])
        return Type("tuple", elements=tuple(_type(i, source, depth + 1) for i in _tuple_items(items)))
    if name == "object" and args:
        return Type("object", attributes=tuple(_attributes(_collection(args[0]), source, depth)))
    return ANY


def _attributes(node: Any, source: bytes, depth: int) -> list[tuple[str, Type, bool, Any]]:
    out = []
    for element in node.named_children if node is not None and node.type == "object" else []:
        if element.type != "object_elem":
            continue
        key = _text(element.child_by_field_name("key"), source).strip().strip('"')
        value = element.child_by_field_name("val")
        inner = value.named_children[0] if value.named_children else value
        if inner.type == "function_call" and _text(inner.named_children[0], source) == "optional":
            arguments = next((c for c in inner.named_children if c.type == "function_arguments"), None)
            args = [c for c in arguments.named_children if c.type == "expression"] if arguments else []
            default = _default(args[1], source) if len(args) > 1 else None
            out.append((key, _type(args[0], source, depth + 1) if args else ANY, True, default))
        else:
            out.append((key, _type(value, source, depth + 1), False, None))
    return out


def _default(node: Any, source: bytes) -> Any:
    from cloudscan.providers.terraform.expressions import evaluate

    return evaluate(Expr(node, source), lambda parts: Unknown("a default cannot refer to other values"))


def _collection(node: Any) -> Any:
    while node is not None and node.type in ("expression", "collection_value") and node.named_children:
        node = node.named_children[0]
    return node


def _tuple_items(node: Any) -> list[Any]:
    return [c for c in node.named_children if c.type == "expression"] if node is not None else []


def _text(node: Any, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def conform(value: Any, kind: Type, depth: int = 0) -> Any:
    """`value` as a variable of type `kind` holds it."""
    if isinstance(value, Unknown) or value is None or kind.kind == "any" or depth > MAX_DEPTH:
        return value
    if kind.kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    if kind.kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if kind.kind == "number" and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    if kind.kind == "bool" and value in ("true", "false"):
        return value == "true"
    if kind.kind in ("list", "set") and isinstance(value, list) and kind.element:
        return [conform(v, kind.element, depth + 1) for v in value]
    if kind.kind == "map" and isinstance(value, dict) and kind.element:
        return {k: conform(v, kind.element, depth + 1) for k, v in value.items()}
    if kind.kind == "tuple" and isinstance(value, list):
        return [conform(v, t, depth + 1) for v, t in zip(value, kind.elements, strict=False)] + value[
            len(kind.elements) :
        ]
    if kind.kind == "object" and isinstance(value, dict):
        out = dict(value)
        for name, attribute, optional, default in kind.attributes:
            if name in out and out[name] is not None:
                out[name] = conform(out[name], attribute, depth + 1)
            elif optional:
                out[name] = conform(default, attribute, depth + 1)
        return out
    return value
