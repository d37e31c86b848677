"""Terraform's built-in functions that configuration of buckets, policies and firewalls uses.

A function whose arguments are not known gives Unknown. Those in TOLERANT only reshape their
arguments (concat, merge, keys, length...), so an unknown element inside a known list or map
is carried through instead of spoiling the whole result. A function not listed here, or one
that reads the machine (file, timestamp, uuid), is Unknown naming the function.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable
from typing import Any

from cloudscan.providers.terraform.expressions import Reference, Unknown, first_unknown

MAX_ITEMS = 100_000
MAX_TEXT = 1_000_000


def call_function(name: str, args: list[Any]) -> Any:
    function = FUNCTIONS.get(name)
    if function is None:
        # Terraform's functions refuse null arguments (with few exceptions, all evaluated here):
        # try(pathexpand(null), null) is null, not unknown.
        if any(arg is None for arg in args):
            return Unknown(f"{name}() of null is an error", error=True)
        return Unknown(f"function {name}() is not evaluated by this scanner")
    for arg in args:
        if isinstance(arg, Unknown | Reference):
            return first_unknown(arg)
    if name not in TOLERANT:
        unknown = first_unknown(args)
        if unknown:
            return unknown
    try:
        result = function(*args)
    except _NotKnown as exc:
        return exc.unknown
    except Exception as exc:  # a wrong argument is the configuration's error (try() catches it)
        return Unknown(f"{name}() fails on these arguments ({type(exc).__name__})", error=True)
    size = len(result) if isinstance(result, str | list | dict) else 0
    if size > (MAX_TEXT if isinstance(result, str) else MAX_ITEMS):
        return Unknown(f"{name}() makes a value larger than this scanner evaluates", error=True)
    return result


class _NotKnown(Exception):
    def __init__(self, unknown: Unknown) -> None:
        super().__init__(unknown.reason)
        self.unknown = unknown


def _known(value: Any) -> Any:
    unknown = first_unknown(value)
    if unknown:
        raise _NotKnown(unknown)
    return value


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    raise TypeError("not a primitive value")


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise TypeError("not a list")


def _map(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise TypeError("not a map")


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, int | float):
        return value
    number = float(str(value))
    return int(number) if number.is_integer() else number


def _format(spec: str, *args: Any) -> str:
    values = iter(args)

    def one(match: re.Match[str]) -> str:
        verb, flags = match.group(2), match.group(1)
        if verb == "%":
            return "%"
        if any(len(n) > 3 for n in re.findall(r"\d+", flags)):
            raise ValueError("a width or precision this large")
        value = _known(next(values, None) if args else None)
        if value is None and verb != "v":
            raise ValueError("not enough arguments")
        if verb in ("v", "s", "q"):
            shown = (
                value
                if isinstance(value, str)
                else json.dumps(value)
                if isinstance(value, list | dict)
                else text(value)
            )
            return ("%" + flags.replace("#", "") + "s") % (json.dumps(shown) if verb == "q" else shown)
        if verb == "d":
            return ("%" + match.group(1) + "d") % int(_number(value))
        if verb in ("f", "e", "g"):
            return ("%" + match.group(1) + verb) % float(_number(value))
        if verb in ("x", "X", "o", "b"):
            return format(int(_number(value)), verb)
        if verb == "t":
            return "true" if value else "false"
        raise ValueError(f"%{verb}")

    return re.sub(r"%([-+# 0-9.]*)([a-zA-Z%])", one, str(spec))


def _formatlist(spec: str, *args: Any) -> list[str]:
    lengths = {len(a) for a in args if isinstance(a, list)}
    if len(lengths) > 1:
        raise ValueError("lists of different lengths")
    count = lengths.pop() if lengths else 1
    return [_format(spec, *[a[i] if isinstance(a, list) else a for a in args]) for i in range(count)]


def _replace(value: str, search: str, replacement: str) -> str:
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        return _safe_pattern(search[1:-1], value).sub(re.sub(r"\$(\d+)", r"\\\1", replacement), value)
    return value.replace(search, replacement)


# Terraform's RE2 runs in linear time; Python's re can backtrack for ever on a nested quantifier.
# A pattern with one (a group or class repeated inside a repeated group) is not evaluated.
_NESTED_QUANTIFIER = re.compile(r"[)\]][*+?{][^()]*[)][*+?{]|\([^()]*[*+|][^()]*\)[*+{]")


def _safe_pattern(pattern: str, subject: str) -> re.Pattern[str]:
    if len(subject) > 100_000 or len(pattern) > 1_000 or _NESTED_QUANTIFIER.search(pattern):
        raise _NotKnown(
            Unknown(
                "a regular expression this scanner does not run (nested repetition, or a subject too long)"
            )
        )
    return re.compile(pattern)


def _lookup(mapping: dict[str, Any], key: Any, *default: Any) -> Any:
    if text(key) in _map(mapping):
        return mapping[text(key)]
    if default:
        return default[0]
    raise KeyError(key)


def _element(items: list[Any], index: Any) -> Any:
    items = _list(items)
    if not items:
        raise IndexError("element() of an empty list")
    return items[int(_number(index)) % len(items)]


def _contains(items: list[Any], value: Any) -> bool:
    found = [_known(i) for i in _list(items)]
    return _known(value) in found


def _coalesce(*values: Any) -> Any:
    for value in values:
        if isinstance(value, Unknown):
            return value
        if value is not None and value != "":
            return value
    raise ValueError("no non-null argument")


def _coalescelist(*lists: Any) -> Any:
    for items in lists:
        if _list(items):
            return items
    raise ValueError("every list is empty")


def _flatten(items: Any) -> list[Any]:
    out: list[Any] = []
    for item in _list(items):
        if isinstance(item, Unknown):
            raise _NotKnown(item)
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def _distinct(items: Any) -> list[Any]:
    out: list[Any] = []
    for item in _known(_list(items)):
        if item not in out:
            out.append(item)
    return out


def _set(items: Any) -> list[Any]:
    return sorted(_distinct(items), key=lambda v: json.dumps(v, sort_keys=True))


def _cidrsubnet(prefix: str, newbits: Any, netnum: Any) -> str:
    network = ipaddress.ip_network(prefix, strict=False)
    if not 0 <= int(_number(newbits)) <= network.max_prefixlen:
        raise ValueError("newbits out of range")
    new_prefix = network.prefixlen + int(_number(newbits))
    size = 2 ** (network.max_prefixlen - new_prefix)
    number = int(_number(netnum))
    if new_prefix > network.max_prefixlen or not 0 <= number < 2 ** int(_number(newbits)):
        raise ValueError("not enough address space")
    address = network.network_address + number * size
    return f"{address}/{new_prefix}"


def _cidrsubnets(prefix: str, *newbits: Any) -> list[str]:
    network = ipaddress.ip_network(prefix, strict=False)
    out, current = [], int(network.network_address)
    for bits in newbits:
        if not 0 <= int(_number(bits)) <= network.max_prefixlen:
            raise ValueError("newbits out of range")
        length = network.prefixlen + int(_number(bits))
        size = 2 ** (network.max_prefixlen - length)
        current = (current + size - 1) // size * size
        subnet = ipaddress.ip_network((current, length))
        if not subnet.subnet_of(network):  # type: ignore[arg-type]
            raise ValueError("not enough address space")
        out.append(str(subnet))
        current += size
    return out


def _cidrhost(prefix: str, number: Any) -> str:
    network = ipaddress.ip_network(prefix, strict=False)
    index = int(_number(number))
    address = (network.network_address if index >= 0 else network.broadcast_address + 1) + index
    if address not in network:
        raise ValueError("host number out of range")
    return str(address)


def _range(*args: Any) -> list[int | float]:
    numbers = [_number(a) for a in args]
    start, stop, step = (0, numbers[0], 1) if len(numbers) == 1 else (*numbers, 1)[:3]
    count = math.ceil((stop - start) / step) if step else MAX_ITEMS + 1
    if count > MAX_ITEMS:
        raise ValueError("range too long")
    return [start + i * step for i in range(max(count, 0))]


def _slice(items: Any, start: Any, end: Any) -> list[Any]:
    items = _list(items)
    first, last = int(_number(start)), int(_number(end))
    if not 0 <= first <= last <= len(items):
        raise IndexError("slice out of range")
    return items[first:last]


def _one(items: Any) -> Any:
    items = _list(items)
    if len(items) > 1:
        raise ValueError("more than one element")
    return items[0] if items else None


def _zipmap(keys: Any, values: Any) -> dict[str, Any]:
    keys, values = _known(_list(keys)), _list(values)
    if len(keys) != len(values):
        raise ValueError("lists of different lengths")
    return {text(k): v for k, v in zip(keys, values, strict=True)}


def _merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mapping in maps:
        if mapping is not None:
            out.update(_map(mapping))
    return out


def _tobool(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError("not a bool")


def _regex(pattern: str, value: str) -> Any:
    match = _safe_pattern(pattern, value).search(value)
    if not match:
        raise ValueError("no match")
    if match.groupdict():
        return match.groupdict()
    return list(match.groups()) if match.groups() else match.group(0)


def _chunklist(items: Any, size: Any) -> list[Any]:
    items, width = _list(items), int(_number(size))
    if width <= 0:
        return [items]
    return [items[i : i + width] for i in range(0, len(items), width)]


def _transpose(mapping: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, values in _map(mapping).items():
        for value in _list(values):
            out.setdefault(text(value), []).append(key)
    return {k: sorted(v) for k, v in out.items()}


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "jsondecode": lambda s: json.loads(s),
    "format": _format,
    "formatlist": _formatlist,
    "lower": lambda s: text(s).lower(),
    "upper": lambda s: text(s).upper(),
    "title": lambda s: text(s).title(),
    "trimspace": lambda s: text(s).strip(),
    "trim": lambda s, chars: text(s).strip(chars),
    "trimprefix": lambda s, p: text(s).removeprefix(p),
    "trimsuffix": lambda s, p: text(s).removesuffix(p),
    "startswith": lambda s, p: text(s).startswith(p),
    "endswith": lambda s, p: text(s).endswith(p),
    "strcontains": lambda s, p: p in text(s),
    "substr": lambda s, offset, length: text(s)[int(offset) :][: None if int(length) < 0 else int(length)],
    "replace": lambda s, search, new: _replace(text(s), text(search), text(new)),
    "split": lambda sep, s: text(s).split(text(sep)),
    "join": lambda sep, items: text(sep).join(text(_known(i)) for i in _list(items)),
    "regex": lambda pattern, s: _regex(text(pattern), text(s)),
    "tostring": lambda v: v if v is None else text(v),
    "tonumber": lambda v: v if v is None else _number(v),
    "tobool": _tobool,
    "tolist": _list,
    "toset": _set,
    "tomap": _map,
    "concat": lambda *lists: [x for items in lists for x in _list(items)],
    "merge": _merge,
    "length": lambda v: len(v) if isinstance(v, list | dict | str) else len(_list(v)),
    "lookup": _lookup,
    "keys": lambda m: sorted(_map(m)),
    "values": lambda m: [m[k] for k in sorted(_map(m))],
    "element": _element,
    "index": lambda items, v: [_known(i) for i in _list(items)].index(_known(v)),
    "contains": _contains,
    "coalesce": _coalesce,
    "coalescelist": _coalescelist,
    "compact": lambda items: [i for i in _list(items) if i is not None and i != ""],
    "flatten": _flatten,
    "distinct": _distinct,
    "setunion": lambda *sets: _set([x for s in sets for x in _list(s)]),
    "setintersection": lambda first, *rest: _set(
        [x for x in _list(first) if all(x in _list(r) for r in rest)]
    ),
    "setsubtract": lambda a, b: _set([x for x in _list(a) if x not in _list(b)]),
    "cidrsubnet": lambda prefix, newbits, netnum: _cidrsubnet(text(prefix), newbits, netnum),
    "cidrsubnets": lambda prefix, *bits: _cidrsubnets(text(prefix), *bits),
    "cidrhost": lambda prefix, number: _cidrhost(text(prefix), number),
    "cidrnetmask": lambda prefix: str(ipaddress.IPv4Network(text(prefix), strict=False).netmask),
    "zipmap": _zipmap,
    "range": _range,
    "slice": _slice,
    "one": _one,
    "reverse": lambda items: list(reversed(_list(items))),
    "sort": lambda items: sorted(text(i) for i in _known(_list(items))),
    "min": lambda *numbers: min(_number(n) for n in numbers),
    "max": lambda *numbers: max(_number(n) for n in numbers),
    "sum": lambda items: sum(_number(n) for n in _list(items)),
    "abs": lambda n: abs(_number(n)),
    "ceil": lambda n: math.ceil(_number(n)),
    "floor": lambda n: math.floor(_number(n)),
    "alltrue": lambda items: all(_known(i) in (True, "true") for i in _list(items)),
    "anytrue": lambda items: any(_known(i) in (True, "true") for i in _list(items)),
    "chunklist": _chunklist,
    "transpose": _transpose,
}

# Functions that look only at the parts of their arguments they need; see the module docstring.
TOLERANT = {
    "concat",
    "merge",
    "length",
    "lookup",
    "keys",
    "values",
    "element",
    "coalesce",
    "coalescelist",
    "compact",
    "flatten",
    "tolist",
    "tomap",
    "zipmap",
    "slice",
    "one",
    "reverse",
    "chunklist",
    "contains",
    "index",
    "distinct",
    "toset",
    "join",
    "format",
    "formatlist",
    "alltrue",
    "anytrue",
    "sort",
}
