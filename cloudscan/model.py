"""The resource model: one envelope for every kind, published as JSON Schema per kind.

Every field of a kind is present in every document. A value that could not be read is
`None`, its JSON pointer is listed in `_meta.unknown`, and the failing call is recorded in
`_meta.errors`: in JSON Schema a missing property silently passes, so absence is never used.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from referencing import Registry, Resource
from referencing._core import Resolver

Document = dict[str, Any]
# Where a source puts what fails for the whole scan (a listing denied, a file not read).
ErrorSink = list[dict[str, Any]]

KINDS = (
    "storage.account",
    "storage.bucket",
    "storage.snapshot",
    "network.ingress",
    "dicom.store",
    "dicomweb.endpoint",
    "dimse.endpoint",
)
SCHEMA_BASE = "https://cloudscan.dev/schemas/"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A published schema by file stem: a kind, 'envelope', 'policy' or 'report'."""
    text = files("cloudscan.schemas").joinpath(f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def schema_registry() -> Registry:
    """All published schemas, resolvable by their $id (relative refs work between them)."""
    names = ("envelope", *KINDS, "policy", "report")
    return Registry().with_resources(
        (SCHEMA_BASE + f"{n}.json", Resource.from_contents(load_schema(n))) for n in names
    )


# -- what the published schema of a kind defines ----------------------------------------------

# Keywords whose subschemas describe the same instance location as the schema holding them.
SAME_PLACE = ("allOf", "anyOf", "oneOf")


@cache
def kind_paths(kind: str) -> frozenset[tuple[str, ...]]:
    """Every instance path the published schema of `kind` defines ('*' for any key or item)."""
    return frozenset(_kind_fields(kind))


@cache
def boolean_fields(kind: str) -> frozenset[str]:
    """Pointers of the fields of `kind` whose value, when known, is true or false."""
    return frozenset(
        join_pointer(list(path))
        for path, types in _kind_fields(kind).items()
        if types and types <= {"boolean", "null"}
    )


@cache
def _kind_fields(kind: str) -> dict[tuple[str, ...], set[str]]:
    """Instance path -> the JSON types the kind's schema allows there (empty when it does not say)."""
    out: dict[tuple[str, ...], set[str]] = {}
    resolver = schema_registry().resolver(base_uri=SCHEMA_BASE + f"{kind}.json")
    _walk_kind(load_schema(kind), (), resolver, out, depth=0)
    return out


def _walk_kind(schema: Any, path: tuple[str, ...], resolver: Resolver, out: dict, depth: int) -> None:
    if not isinstance(schema, dict) or depth > 20:
        return
    if path and "type" in schema:
        types = schema["type"]
        out.setdefault(path, set()).update([types] if isinstance(types, str) else types)
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        _walk_kind(resolved.contents, path, resolved.resolver, out, depth + 1)
    for name, sub in schema.get("properties", {}).items():
        out.setdefault((*path, name), set())
        _walk_kind(sub, (*path, name), resolver, out, depth + 1)
    for keyword in SAME_PLACE:
        for sub in schema.get(keyword, []):
            _walk_kind(sub, path, resolver, out, depth + 1)
    for keyword in ("additionalProperties", "items"):
        if isinstance(schema.get(keyword), dict):
            out.setdefault((*path, "*"), set())
            _walk_kind(schema[keyword], (*path, "*"), resolver, out, depth + 1)


def new_resource(
    kind: str,
    provider: str,
    resource_id: str,
    *,
    name: str | None = None,
    account: str | None = None,
    region: str | None = None,
    labels: dict[str, str] | None = None,
    source: dict[str, Any] | None = None,
) -> Document:
    """A document with the envelope filled and every kind-specific field set to None."""
    doc: Document = {
        "kind": kind,
        "provider": provider,
        "id": resource_id,
        "name": name,
        "account": account,
        "region": region,
        "labels": labels if labels is not None else {},
        "source": source or {"type": "live"},
    }
    for field in load_schema(kind)["required"]:
        doc.setdefault(field, None)
    doc["_meta"] = {"errors": [], "unknown": [], "not_collected": []}
    return doc


class CredentialsRefused(Exception):
    """A cloud refused the credentials, none could be loaded, or its control plane cannot be
    reached before the scan starts: nothing can be scanned (exit 2)."""


# -- shapes adapters share -------------------------------------------------------------------


def principal(
    kind: str, principal_id: str, *, account: str | None = None, negated: bool = False
) -> dict[str, Any]:
    """Who a grant is for: `public`, `all_authenticated`, an `aws` account or role, a
    `canonical_user`, a GCP `member`..., with the account (or project) it belongs to."""
    return {"type": kind, "id": principal_id, "account": account, "negated": negated}


def grant(
    who: dict[str, Any],
    permissions: list[str],
    *,
    via: str,
    origin: str,
    actions: list[str],
    effect: str = "allow",
    conditions: Any = None,
    resources: list[str] | None = None,
) -> dict[str, Any]:
    """One grant of access as checks/exposure.py reads it, whatever cloud it came from. `via`
    says which kind of setting made it (acl, policy, iam_binding, container_level), `origin`
    where in that setting it is."""
    return {
        "effect": effect,
        "principal": who,
        "permissions": list(permissions),
        "actions": list(actions),
        "resources": resources,
        "via": via,
        "conditions": conditions,
        "origin": origin,
    }


def bucket_access(guards: dict[str, Any], *, policy: dict[str, Any] | None = None) -> dict[str, Any]:
    """A storage.bucket's access block before its ACL and policy are read: the guards that
    neutralise grants, and no grant yet. Object ACLs are not read until a sample is taken, a
    bucket has no access point until one is read (only S3 has them), and `cdn` (the CDNs that
    serve the bucket) stays None where a source does not read them."""
    return {
        "guards": guards,
        "acl": None,
        "policy": policy,
        "object_acls": None,
        "access_points": [],
        "grants": [],
        "cdn": None,
    }


def store_access(policy: dict[str, Any] | None = None) -> dict[str, Any]:
    """A dicom.store's access block: its IAM policy summary and no grant yet."""
    return {"policy": policy, "grants": []}


def file_source(
    kind: str, file: str, line_start: int | None, line_end: int | None, address: str | None = None
) -> dict[str, Any]:
    """Where a document read from a file (Terraform, a plan, a PACS configuration) comes from."""
    return {"type": kind, "address": address, "file": file, "line_start": line_start, "line_end": line_end}


def leave_out(doc: Document, blocks: tuple[str, ...], read: frozenset[str]) -> None:
    """The blocks of `blocks` not in `read` were not collected (no enabled policy needs them):
    null, and listed as such rather than as unknown."""
    not_collected = [f"/{block}" for block in blocks if block not in read]
    for pointer in not_collected:
        doc[pointer[1:]] = None
    doc["_meta"]["not_collected"] = not_collected


def ingress_rule(
    protocol: str, ports: tuple[int, int], source: str, source_type: str, description: str | None
) -> dict[str, Any]:
    """A network.ingress document's rule: what it lets in, from where."""
    return {
        "protocol": protocol,
        "from_port": ports[0],
        "to_port": ports[1],
        "source": source,
        "source_type": source_type,
        "description": description,
    }


def scan_error(call: str, code: str, message: str, resource: str | None = None) -> dict[str, Any]:
    """A failure of the scan itself (a listing denied, a file not read), as reports list it."""
    return {"call": call, "code": code, "message": message, "resource": resource}


def scan_warning(call: str, message: str) -> dict[str, Any]:
    """What a source says that is no failure (a fallback it took), put in the error sink: the
    scan moves it to the result's warnings."""
    return {**scan_error(call, "Warning", message), "warning": True}


def mark_unknown(doc: Document, pointers: list[str], *, call: str, code: str, message: str) -> None:
    """Record that `call` failed and left the fields at `pointers` unknown (set them to None)."""
    for pointer in pointers:
        set_pointer(doc, pointer, None)
        if pointer not in doc["_meta"]["unknown"]:
            doc["_meta"]["unknown"].append(pointer)
    doc["_meta"]["errors"].append(
        {"call": call, "code": code, "message": message, "pointers": list(pointers)}
    )


def derive_unknown(doc: Document, pointer: str, inputs: list[str]) -> None:
    """A derived field is unknown because the fields at `inputs` are: link it to their errors."""
    meta = doc["_meta"]
    if pointer not in meta["unknown"]:
        meta["unknown"].append(pointer)
    for error in meta["errors"]:
        touched = any(overlaps(p, i) for p in error["pointers"] for i in inputs)
        if touched and pointer not in error["pointers"]:
            error["pointers"].append(pointer)


def unknown_inputs(doc: Document, inputs: list[str]) -> list[str]:
    """Those of `inputs` that overlap a pointer listed in `_meta.unknown`."""
    unknown = doc["_meta"]["unknown"]
    return [i for i in inputs if any(overlaps(i, u) for u in unknown)]


def split_pointer(pointer: str) -> list[str]:
    if pointer in ("", "/"):
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


def join_pointer(parts: Sequence[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def overlaps(a: str, b: str) -> bool:
    """True when one pointer is the other or lies inside it; '*' matches any one segment."""
    pa, pb = split_pointer(a), split_pointer(b)
    return all(x == y or "*" in (x, y) for x, y in zip(pa, pb, strict=False))


def get_pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for part in split_pointer(pointer):
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def set_pointer(doc: Document, pointer: str, value: Any) -> None:
    parts = split_pointer(pointer)
    node: Any = doc
    for part in parts[:-1]:
        if isinstance(node, list):  # an item of a list block (a bucket's access points)
            node = node[int(part)]
            continue
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
