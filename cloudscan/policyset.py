"""Load and validate policy files: JSON Schema documents with `x-cloudscan` metadata.

Validation runs in layers, each naming the file and the JSON pointer: the file parses, its
metadata matches the policy meta-schema, it is a valid 2020-12 schema, its id is unique,
and every property path it names exists in the schema of the kind it applies to, so that a
misspelt key cannot pass silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache, cached_property
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from cloudscan.inputs import InputError, read_text
from cloudscan.model import (
    SAME_PLACE,
    join_pointer,
    kind_paths,
    load_schema,
    schema_registry,
    split_pointer,
)

MAX_POLICY_BYTES = 1024 * 1024

SEVERITIES = ("critical", "high", "medium", "low", "info")


class PolicyError(Exception):
    """A policy file that cannot be used, with the file and the JSON pointer at fault."""

    def __init__(self, file: str, pointer: str, message: str) -> None:
        super().__init__(f"{file}: {pointer or '/'}: {message}")
        self.file, self.pointer, self.message = file, pointer, message


@dataclass(frozen=True)
class Policy:
    id: str
    file: str
    schema: dict[str, Any]
    meta: dict[str, Any]
    validator: Draft202012Validator = field(repr=False)
    when: Draft202012Validator | None = field(repr=False)
    paths: frozenset[str] = field(repr=False)
    when_paths: frozenset[str] = field(repr=False, default=frozenset())

    @cached_property
    def leaf_paths(self) -> frozenset[str]:
        """The most specific paths: the fields whose values decide the result."""
        return _leaves(self.paths)

    @cached_property
    def when_leaf_paths(self) -> frozenset[str]:
        """The fields that decide whether the policy applies."""
        return _leaves(self.when_paths)

    @cached_property
    def read_plan(self) -> list[tuple[str, list[str], bool]] | None:
        """(path, its parts, whether it is a leaf) for each path the policy names; None when a
        path names array items (`*`), or when the schema judges an object above a leaf by
        anything but its keys (a const, a pattern of property names...): then a walk over
        the named paths would not see all the schema sees."""
        if any("*" in p for p in self.paths):
            return None
        body = {k: v for k, v in self.schema.items() if k != "x-cloudscan"}
        when = self.meta["applies_to"].get("when")
        if not _walkable(body, [], self.leaf_paths) or (
            when is not None and not _walkable(when, [], self.when_leaf_paths)
        ):
            return None
        leaves = self.leaf_paths | self.when_leaf_paths
        return [(p, split_pointer(p), p in leaves) for p in sorted(self.paths) if split_pointer(p)]

    @cached_property
    def fields_read(self) -> frozenset[str]:
        """Top-level fields of a document that the policy's result can depend on."""
        return frozenset({"kind", "provider", "_meta"} | {split_pointer(p)[0] for p in self.paths if p})

    @property
    def kind(self) -> str:
        return self.meta["applies_to"]["kind"]

    @property
    def providers(self) -> list[str] | None:
        return self.meta["applies_to"].get("provider")

    @property
    def severity(self) -> str:
        return self.meta["severity"]

    def applies_to(self, doc: dict[str, Any]) -> bool:
        return doc["kind"] == self.kind and (self.providers is None or doc["provider"] in self.providers)


# Keywords of a schema above a leaf that look only at which keys an object has, or apply
# subschemas at the same place; everything else there makes a policy read whole fields.
_STRUCTURAL = {
    "properties",
    "required",
    "type",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "x-cloudscan-message",
    "description",
    "title",
    "$comment",
    "$schema",
    "$defs",
}
_COMPOSING = {"allOf", "anyOf", "oneOf"}
_AT_THE_SAME_PLACE = {"not", "if", "then", "else"}


def _walkable(node: Any, path: list[str], leaves: frozenset[str], depth: int = 0) -> bool:
    if not isinstance(node, dict) or depth > MAX_SCHEMA_DEPTH:
        return isinstance(node, bool)
    if path and join_pointer(list(path)) in leaves:
        return True  # a leaf: any keyword may judge its value, and its value is read whole
    for key, value in node.items():
        if key not in _STRUCTURAL:
            return False
        if key == "properties" and isinstance(value, dict):
            if not all(_walkable(sub, [*path, name], leaves, depth + 1) for name, sub in value.items()):
                return False
        elif key in _COMPOSING and isinstance(value, list):
            if not all(_walkable(sub, path, leaves, depth + 1) for sub in value):
                return False
        elif key in _AT_THE_SAME_PLACE and not _walkable(value, path, leaves, depth + 1):
            return False
    return True


def _leaves(paths: frozenset[str]) -> frozenset[str]:
    return frozenset(p for p in paths if not any(q.startswith(p + "/") for q in paths))


def builtin_policies() -> Traversable:
    return files("cloudscan.policies")


def load_policies(dirs: Iterable[Path | Traversable], *, builtin: bool = True) -> list[Policy]:
    """Every policy in the built-in set (unless disabled) and in `dirs`, most severe first.
    Raises PolicyErrors with every file's first error and every duplicate id."""
    sources = [(builtin_policies(), True)] if builtin else []
    sources += [(source, False) for source in dirs]
    policies, errors = [], []
    for source, shipped in sources:
        for path in _policy_files(source):
            try:
                # The shipped policies are validated by the test suite, not again on every scan.
                policies.append(compile_policy(_read_json(path), str(path), validated=shipped))
            except PolicyError as exc:
                errors.append(exc)
    seen: dict[str, str] = {}
    for policy in policies:
        if policy.id in seen:
            errors.append(
                PolicyError(
                    policy.file, "/x-cloudscan/id", f"id {policy.id!r} is already used by {seen[policy.id]}"
                )
            )
        seen.setdefault(policy.id, policy.file)
    if errors:
        raise PolicyErrors(errors)
    return sorted(policies, key=lambda p: (SEVERITIES.index(p.severity), p.id))


class PolicyErrors(Exception):
    def __init__(self, errors: list[PolicyError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def select(policies: list[Policy], only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Policy]:
    """Filter by id; patterns may use shell wildcards (storage-*)."""
    only, skip = list(only), list(skip)
    return [
        p
        for p in policies
        if (not only or any(fnmatchcase(p.id, o) for o in only))
        and not any(fnmatchcase(p.id, s) for s in skip)
    ]


def _policy_files(source: Path | Traversable) -> Iterator[Path | Traversable]:
    if source.is_file():
        yield source
        return
    if not source.is_dir():
        raise PolicyErrors([PolicyError(str(source), "", "no such policy file or directory")])
    for child in sorted(source.iterdir(), key=lambda c: c.name):
        if child.is_dir() and not child.name.startswith(("_", ".")):
            yield from _policy_files(child)
        elif child.name.endswith(".json"):
            yield child


def _read_json(path: Path | Traversable) -> Any:
    try:
        if isinstance(path, Path):
            text = read_text(path, MAX_POLICY_BYTES)
        else:  # shipped inside the package (a wheel, a zip): read as it is
            text = path.read_text(encoding="utf-8")
        return json.loads(text)
    except InputError as exc:
        raise PolicyError(str(path), "", str(exc)) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise PolicyError(str(path), "", f"not valid JSON: {exc.msg} ({where})") from None
    except RecursionError:
        raise PolicyError(str(path), "", "not valid JSON for a policy: nested too deeply") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(str(path), "", f"cannot be read: {exc}") from None


MAX_SCHEMA_DEPTH = 64
# Keywords that make a schema reach outside itself or re-bind names: a policy is data from a
# pull request, and a scan never fetches or follows anything it points at.
REFUSED_KEYWORDS = {
    "$id",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$recursiveAnchor",
    "$vocabulary",
}


def _check_structure(schema: dict[str, Any], file: str) -> None:
    """Depth, messages and references a policy may use: `$ref` only to `#/$defs/NAME` that
    exists, without cycles; `x-cloudscan-message` a short string."""
    refs: dict[str, set[str]] = {}
    stack: list[tuple[Any, list[str], str | None]] = [(schema, [], None)]
    while stack:
        node, path, in_def = stack.pop()
        pointer = join_pointer(list(path))
        if len(path) > MAX_SCHEMA_DEPTH:
            raise PolicyError(file, pointer, f"nested deeper than {MAX_SCHEMA_DEPTH} levels")
        if isinstance(node, list):
            stack.extend((item, [*path, str(i)], in_def) for i, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            here = join_pointer([*path, key])
            if key in REFUSED_KEYWORDS:
                raise PolicyError(
                    file, here, f"{key} is not allowed in a policy (a policy refers only to its own $defs)"
                )
            if key == "$ref":
                target = value.removeprefix("#/$defs/") if isinstance(value, str) else ""
                if not isinstance(value, str) or not value.startswith("#/$defs/") or "/" in (target or "/"):
                    raise PolicyError(
                        file,
                        here,
                        f"$ref {str(value)[:80]!r}: a policy may refer only to #/$defs/NAME of its own",
                    )
                if target not in (schema.get("$defs") or {}):
                    raise PolicyError(file, here, f"$ref {value!r}: no such definition in $defs")
                refs.setdefault(in_def or "", set()).add(target)
            elif key == "x-cloudscan-message" and (not isinstance(value, str) or len(value) > 500):
                raise PolicyError(file, here, "x-cloudscan-message must be a string, 500 characters at most")
            definition = key if path == ["$defs"] else in_def
            stack.append((value, [*path, key], definition))
    _refuse_cycles(refs, file)


def _refuse_cycles(refs: dict[str, set[str]], file: str) -> None:
    done: set[str] = set()
    for start in refs:
        trail, todo = set(), [(start, iter(sorted(refs.get(start, ()))))]
        trail.add(start)
        while todo:
            name, following = todo[-1]
            step = next(following, None)
            if step is None:
                todo.pop()
                trail.discard(name)
                done.add(name)
            elif step in trail:
                raise PolicyError(file, f"/$defs/{step}", "$defs refer to each other in a cycle")
            elif step not in done:
                trail.add(step)
                todo.append((step, iter(sorted(refs.get(step, ())))))


def _validate(schema: dict[str, Any], file: str) -> None:
    _check_structure(schema, file)
    meta_errors = sorted(_meta_validator().iter_errors(schema), key=lambda e: list(e.absolute_path))
    if meta_errors:
        first = meta_errors[0]
        raise PolicyError(file, join_pointer(list(first.absolute_path)), first.message)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        pointer = join_pointer(list(exc.absolute_path))
        raise PolicyError(file, pointer, f"not a valid JSON Schema: {exc.message}") from None


def compile_policy(schema: Any, file: str, *, validated: bool = False) -> Policy:
    if not isinstance(schema, dict):
        raise PolicyError(file, "", "a policy must be a JSON object")
    if not validated:
        _validate(schema, file)
    meta = schema["x-cloudscan"]
    kind = meta["applies_to"]["kind"]
    paths: set[str] = set()
    body = {k: v for k, v in schema.items() if k != "x-cloudscan"}
    _collect_paths(body, [], "", paths, schema, file, kind)
    when = meta["applies_to"].get("when")
    when_paths: set[str] = set()
    if when is not None:
        _collect_paths(when, [], "/x-cloudscan/applies_to/when", when_paths, schema, file, kind)
    return Policy(
        id=meta["id"],
        file=file,
        schema=schema,
        meta=meta,
        validator=Draft202012Validator(body),
        when=Draft202012Validator(when) if when is not None else None,
        paths=frozenset(paths | when_paths),
        when_paths=frozenset(when_paths),
    )


@cache
def _meta_validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema("policy"), registry=schema_registry())


# -- property paths ------------------------------------------------------------------------

SAME_PLACE_ONE = ("not", "if", "then", "else")
ANY_KEY = ("additionalProperties", "unevaluatedProperties", "propertyNames")
ANY_ITEM = ("items", "contains", "unevaluatedItems")


def _collect_paths(
    schema: Any, path: list[str], at: str, out: set[str], root: dict[str, Any], file: str, kind: str
) -> None:
    """Add every instance path `schema` names to `out`; raise if the kind has no such path."""
    if not isinstance(schema, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        _check_path([*path, name], f"{at}/properties/{name}", file, kind)
        out.add(join_pointer([*path, name]))
        _collect_paths(sub, [*path, name], f"{at}/properties/{name}", out, root, file, kind)
    for name in schema.get("required", []):
        _check_path([*path, name], f"{at}/required", file, kind)
        out.add(join_pointer([*path, name]))
    for keyword in SAME_PLACE:
        for i, sub in enumerate(schema.get(keyword, [])):
            _collect_paths(sub, path, f"{at}/{keyword}/{i}", out, root, file, kind)
    for keyword in SAME_PLACE_ONE:
        if keyword in schema:
            _collect_paths(schema[keyword], path, f"{at}/{keyword}", out, root, file, kind)
    for keyword in ANY_KEY + ANY_ITEM:
        if isinstance(schema.get(keyword), dict):
            _collect_paths(schema[keyword], [*path, "*"], f"{at}/{keyword}", out, root, file, kind)
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in split_pointer(ref[1:]):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        if target is not schema:
            _collect_paths(target, path, ref[1:], out, root, file, kind)


def _check_path(path: list[str], at: str, file: str, kind: str) -> None:
    if not any(_matches(path, known) for known in kind_paths(kind)):
        raise PolicyError(
            file, at, f"{join_pointer(path)} is not a field of {kind} (see cloudscan/schemas/{kind}.json)"
        )


def _matches(path: list[str], known: tuple[str, ...]) -> bool:
    return len(path) == len(known) and all(k == "*" or p == k for p, k in zip(path, known, strict=True))
