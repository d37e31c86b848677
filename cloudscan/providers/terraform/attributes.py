"""Attributes Terraform computes that configuration refers to: a bucket's id and arn, a policy
document's json. Each cloud's mapper registers those of its resource types here, so this
module knows no cloud. A computed value that only exists after apply is a placeholder naming
the reference ("${aws_security_group.pacs.id}"): it identifies the resource without guessing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # config.py calls lookup(): a type-only import keeps the two apart at runtime
    from cloudscan.providers.terraform.config import Instance

# (mode, type) -> fn(instance, attribute name) giving the value, or NOT_COMPUTED to fall back to
# the configuration's own argument.
Computed = Callable[["Instance", str], Any]
COMPUTED: dict[tuple[str, str], Computed] = {}
NOT_COMPUTED = object()


def computed(mode: str, *types: str) -> Callable[[Computed], Computed]:
    """Register `fn` as the computed attributes of resources (or data sources) of `types`."""

    def register(fn: Computed) -> Computed:
        for type_ in types:
            COMPUTED[(mode, type_)] = fn
        return fn

    return register


def lookup(instance: Instance, name: str) -> Any:
    fn = COMPUTED.get((instance.mode, instance.type))
    if fn is not None:
        value = fn(instance, name)
        if value is not NOT_COMPUTED:
            return value
    if name in instance.body:
        return instance.value(name)
    return placeholder(instance, name)


def placeholder(instance: Instance, name: str) -> str:
    module = instance.module.address
    return f"${{{module + '.' if module else ''}{instance.address}.{name}}}"


def named_identity(instance: Instance, argument: str = "name") -> str:
    """The resource's name when the configuration fixes it, else a placeholder that still tells
    it apart from every other one."""
    name = instance.value(argument)
    return name if isinstance(name, str) else placeholder(instance, argument)


def identity_named(*types: str) -> None:
    """Resources whose `name` argument is their identity: a reference to .name finds them even
    when the name itself is not known."""

    def name_of(instance: Instance, name: str) -> Any:
        return named_identity(instance) if name == "name" else NOT_COMPUTED

    computed("managed", *types)(name_of)


def as_blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value or [] if isinstance(v, dict)]
