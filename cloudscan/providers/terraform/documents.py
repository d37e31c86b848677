"""Building resource documents from Terraform instances, shared by the AWS, GCP and Azure
mappers: ids, sources, unresolved values, and ingress rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from cloudscan.model import Document, file_source, load_schema, mark_unknown, new_resource
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.expressions import Unknown, first_unknown


def isolated(
    module: Module,
    instances: Iterable[Instance],
    kind: str,
    provider: str,
    build: Callable[[Instance], Iterable[Document]],
) -> Iterator[Document]:
    """The documents `build` makes of each instance. A construct this scanner mishandles (an
    exception) costs only that instance: it becomes a document whose every field is unknown,
    with the error, so the resource is never dropped and never passes."""
    for instance in instances:
        try:
            documents = list(build(instance))
        except Exception as exc:
            yield unreadable(module, instance, kind, provider, f"{type(exc).__name__}: {exc}")
            continue
        yield from documents


def unreadable(module: Module, instance: Instance, kind: str, provider: str, message: str) -> Document:
    doc = new_resource(
        kind, provider, resource_id(module, instance), name=instance.address, source=source_of(instance)
    )
    fields = [f for f in load_schema(kind)["required"] if f not in ("exposure", "data")]  # derived
    mark_unknown(
        doc,
        [f"/{f}" for f in fields],
        call="cloudscan:internal",
        code="InternalError",
        message=f"{instance.address} ({instance.file}:{instance.line_start}) could not be read: "
        f"{message} (a bug in cloudscan: please report it)",
    )
    return doc


def known_only_after_apply(value: Any) -> Any:
    """A computed attribute's placeholder ("${data.aws_vpc.main.cidr_block}", or one inside a
    template: "${aws_eip.e.private_ip}/32") where a value is needed, such as an address
    range: Unknown, never a range that reads as anything."""
    if isinstance(value, str) and "${" in value:
        return Unknown(f"{value} is known only after apply")
    return value


def resource_id(module: Module, instance: Instance, suffix: str = "") -> str:
    prefix = "" if module.path in ("", ".") else f"{module.path}/"
    return f"{prefix}{instance.address}{suffix}"


def source_of(instance: Instance) -> dict[str, Any]:
    lines = (None, None) if instance.planned else (instance.line_start, instance.line_end)
    return file_source("terraform", instance.file, lines[0], lines[1], instance.address)


def unresolved(doc: Document, pointers: list[str], instance: Instance, reason: str) -> None:
    """Fields at `pointers` are null and unknown because of `reason` in `instance`."""
    mark_unknown(
        doc,
        pointers,
        call="terraform:evaluate",
        code="Unresolved",
        message=f"{instance.address} ({instance.file}:{instance.line_start}): {reason}",
    )


def set_blocks(doc: Document, values: Mapping[str, Any], holder: Instance) -> None:
    """Each block of `values` into the document, or unknown if any of its values is."""
    for block, value in values.items():
        unknown = first_unknown(value)
        if unknown:
            unresolved(doc, [f"/{block}"], holder, unknown.reason)
        else:
            doc[block] = value


def ingress(
    module: Module,
    provider: str,
    holder: Instance,
    group: dict[str, Any],
    rule: dict[str, Any],
    problems: list[tuple[str, str]],
    written: str | None = None,
    *,
    account: str | None = None,
) -> Document:
    """A network.ingress document. `rule` has the rule block's fields; `problems` lists the
    (pointer, reason) of fields that could not be worked out: they keep a placeholder value
    (the schema wants a number or a string) and are listed as unknown. The id names the
    source as `written` in the configuration when that differs from the normalised one."""
    key = f"{rule['protocol']}/{rule['from_port']}-{rule['to_port']}/{written or rule['source']}"
    doc = new_resource(
        "network.ingress",
        provider,
        resource_id(module, holder, f"#ingress/{key}"),
        name=f"{group['name']} {key}",
        account=account,
        source=source_of(holder),
    )
    doc["group"] = group
    doc["rule"] = rule
    doc["_meta"]["not_collected"].extend(["/attached", "/addresses"])
    by_reason: dict[str, list[str]] = {}
    for pointer, reason in problems:
        if pointer not in doc["_meta"]["unknown"]:
            doc["_meta"]["unknown"].append(pointer)
        by_reason.setdefault(reason, []).append(pointer)
    for reason, pointers in by_reason.items():  # one error per cause, however many fields it hides
        doc["_meta"]["errors"].append(
            {
                "call": "terraform:evaluate",
                "code": "Unresolved",
                "message": f"{holder.address}: {reason}",
                "pointers": pointers,
            }
        )
    return doc


# Protocol names and numbers as firewalls write them, to the names rules use.
PROTOCOLS = {
    "-1": "all",
    "all": "all",
    "*": "all",
    "any": "all",
    "6": "tcp",
    "17": "udp",
    "1": "icmp",
    "58": "icmpv6",
    "132": "sctp",
}


def protocol_name(value: Any) -> tuple[str, Unknown | None]:
    """("tcp", None) for "tcp", "Tcp" or 6; ("all", reason) when the value is not known, so
    that the rule is judged on all ports with its protocol marked unknown."""
    if isinstance(value, Unknown):
        return "all", value
    if value is None:
        return "all", None
    text = str(value).lower()
    return PROTOCOLS.get(text, text), None


def as_list(value: Any) -> list[Any]:
    """A list argument's items: none for null, one for a single or unknown value."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def unknown_problems(pairs: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(pointer, reason) for each value of `pairs` that is Unknown."""
    return [(pointer, value.reason) for pointer, value in pairs if isinstance(value, Unknown)]


def referred(instance: Instance, attribute: str, identities: dict[str, str]) -> Any:
    """The identity `attribute` points at: its value, or in a plan, where a value known only
    after apply is missing, the resource its expression referred to."""
    value = instance.value(attribute)
    if (value is None or isinstance(value, Unknown)) and attribute in instance.references:
        return identities.get(instance.references[attribute])
    return value
