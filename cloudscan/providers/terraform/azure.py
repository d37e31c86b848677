"""Azure resources of a Terraform module: blob containers judged with their storage account's
settings as guards, and network security group rules. What the configuration leaves out takes
the azurerm provider's defaults: nested items may be public, containers are private."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudscan.model import Document, bucket_access, new_resource, store_access
from cloudscan.providers.azure.vocabulary import (
    CONTAINER_ACCESS,
    Deny,
    container_grants,
    open_ports,
    rule_source,
)
from cloudscan.providers.terraform.attributes import identity_named, named_identity, placeholder
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.documents import (
    as_list,
    ingress,
    isolated,
    known_only_after_apply,
    protocol_name,
    resource_id,
    set_blocks,
    source_of,
    unknown_problems,
    unresolved,
)
from cloudscan.providers.terraform.expressions import Unknown, as_bool, first_unknown

identity_named(
    "azurerm_storage_account",
    "azurerm_storage_container",
    "azurerm_network_security_group",
    "azurerm_healthcare_dicom_service",
)


def accounts(module: Module) -> Iterator[Document]:
    """Each storage account on its own: one that lets containers be made public is a finding
    even when this configuration declares no container in it."""
    yield from isolated(
        module,
        module.managed("azurerm_storage_account"),
        "storage.account",
        "azure",
        lambda account: [_account(module, account)],
    )


def _account(module: Module, account: Instance) -> Document:
    doc = new_resource(
        "storage.account",
        "azure",
        resource_id(module, account),
        name=named_identity(account),
        region=_str(account.value("location")),
        source=source_of(account),
    )
    https = account.value("https_traffic_only_enabled")
    https = account.value("enable_https_traffic_only") if https is None else https  # azurerm 3
    values = {
        "allow_public_containers": _allows_public(account),
        "network": _network(account),
        # The azurerm provider's defaults: HTTPS only, TLS 1.2, shared keys accepted.
        "https_only": as_bool(https, True),
        "minimum_tls_version": account.value("min_tls_version") or "TLS1_2",
        "shared_key_access": as_bool(account.value("shared_access_key_enabled"), True),
        # azurerm 4 turns it off unless asked; azurerm 3 left Azure's old default, on.
        "cross_tenant_replication": as_bool(account.value("cross_tenant_replication_enabled"), False),
        "customer_managed_key": _managed_key(module, account),
        "blob_recovery": _blob_recovery(account),
    }
    set_blocks(doc, values, account)
    return doc


def _allows_public(account: Instance) -> Any:
    allowed = as_bool(account.value("allow_nested_items_to_be_public"))
    return allowed if allowed is not None else as_bool(account.value("allow_blob_public_access"), True)


def buckets(module: Module) -> Iterator[Document]:
    accounts: dict[Any, Instance] = {}
    for account in module.related("azurerm_storage_account"):
        accounts[named_identity(account)] = account
        accounts[placeholder(account, "id")] = account
    yield from isolated(
        module,
        module.managed("azurerm_storage_container"),
        "storage.bucket",
        "azure",
        lambda container: [_container(module, container, accounts)],
    )


def _container(module: Module, container: Instance, accounts: dict[Any, Instance]) -> Document:
    account = accounts.get(container.value("storage_account_name")) or accounts.get(
        container.value("storage_account_id")
    )
    name = named_identity(container)
    account_name = named_identity(account) if account else "(account not in this configuration)"
    doc = new_resource(
        "storage.bucket",
        "azure",
        resource_id(module, container),
        name=f"{account_name}/{name}",
        source=source_of(container),
        region=_str(account.value("location")) if account else None,
    )
    _access(doc, container, account)
    _settings(doc, module, container, account)
    if module.unreadable:
        # Network rules and the account's own settings can sit in another file of the directory.
        unresolved(
            doc,
            ["/access/guards"],
            container,
            f"{', '.join(module.unreadable)} could not be read and may configure its account",
        )
    return doc


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _access(doc: Document, container: Instance, account: Instance | None) -> None:
    allowed = _allows_public(account) if account else None
    guard = allowed if isinstance(allowed, bool) else None
    network = _network(account) if account else None
    doc["access"] = bucket_access(
        {
            "account_allows_public_access": guard,
            "account_network": None if isinstance(network, Unknown) else network,
        },
        policy={"present": False, "statement_count": 0},  # containers have no resource policy
    )
    if account and isinstance(network, Unknown):
        unresolved(doc, ["/access/guards/account_network"], account, network.reason)
    if account is None:
        unresolved(
            doc,
            ["/access/guards/account_allows_public_access", "/access/guards/account_network"],
            container,
            "its storage account is not in this configuration",
        )
    elif isinstance(allowed, Unknown):
        unresolved(doc, ["/access/guards/account_allows_public_access"], account, allowed.reason)
    level = container.value("container_access_type") or "private"
    if isinstance(level, Unknown) or level not in CONTAINER_ACCESS:
        unresolved(
            doc,
            ["/access/acl"],
            container,
            level.reason if isinstance(level, Unknown) else f"unknown access type {level!r}",
        )
        return
    doc["access"]["grants"].extend(
        container_grants(
            level, f"{container.address} container_access_type", f"container_access_type = {level}"
        )
    )
    doc["access"]["acl"] = {"owner": None, "grant_count": len(doc["access"]["grants"])}


def _network(account: Instance) -> dict[str, Any] | Unknown:
    """The account's network access as configured: public network access, and the network
    rules given inline or by azurerm_storage_account_network_rules."""
    rules = account.blocks("network_rules") + [
        {"default_action": i.value("default_action"), "ip_rules": i.value("ip_rules")}
        for i in account.module.instances
        if i.type == "azurerm_storage_account_network_rules"
        and i.value("storage_account_id") == placeholder(account, "id")
    ]
    rule = rules[0] if rules else {"default_action": "Allow", "ip_rules": []}
    action = rule.get("default_action")
    network = {
        "public_network_access": as_bool(account.value("public_network_access_enabled"), True),
        "default_action": action.capitalize() if isinstance(action, str) else action,
        "ip_rules": rule.get("ip_rules") or [],
    }
    unknown = first_unknown(network)
    return unknown if unknown else network


def _blob_recovery(account: Instance) -> dict[str, Any]:
    """blob_properties as the account's blob service reports them: no delete retention policy
    block means soft delete is off."""
    blob = (account.blocks("blob_properties") or [{}])[0]
    policies = blob.get("delete_retention_policy")
    retention = policies[0] if isinstance(policies, list) and policies else policies
    days = retention.get("days", 7) if isinstance(retention, dict) else None
    return {
        "soft_delete_days": days,
        "versioning": as_bool(blob.get("versioning_enabled"), False),
        "change_feed": as_bool(blob.get("change_feed_enabled"), False),
    }


def _managed_key(module: Module, account: Instance) -> bool:
    return bool(account.blocks("customer_managed_key")) or any(
        i.value("storage_account_id") == placeholder(account, "id")
        for i in module.managed("azurerm_storage_account_customer_managed_key")
    )


def _settings(doc: Document, module: Module, container: Instance, account: Instance | None) -> None:
    if account is None:
        for block in ("encryption", "versioning", "object_lock", "logging"):
            unresolved(doc, [f"/{block}"], container, "its storage account is not in this configuration")
        return
    blob = (account.blocks("blob_properties") or [{}])[0]
    managed_key = _managed_key(module, account)
    locked = bool(account.blocks("immutability_policy")) or any(
        i.value("storage_container_resource_manager_id")
        in (placeholder(container, "resource_manager_id"), placeholder(container, "id"))
        for i in module.managed("azurerm_storage_container_immutability_policy")
    )
    account_id = placeholder(account, "id")
    logged = any(
        isinstance(target := i.value("target_resource_id"), str)
        and target.startswith(account_id)
        and "blobServices" in target
        for i in module.managed("azurerm_monitor_diagnostic_setting")
    )
    values: dict[str, dict[str, Any]] = {
        # Azure Storage always encrypts; a customer-managed key is the stronger form.
        "encryption": {
            "enabled": True,
            "algorithm": "cmk" if managed_key else "microsoft-managed",
            "kms_key": None,
            "bucket_key": None,
        },
        "versioning": {"enabled": as_bool(blob.get("versioning_enabled"), False), "mfa_delete": None},
        "object_lock": {"enabled": locked, "mode": None, "retention_days": None},
        "logging": {"enabled": logged, "target": None},
    }
    set_blocks(doc, values, account)


RULE_KEYS = (
    "name",
    "priority",
    "direction",
    "access",
    "protocol",
    "source_address_prefix",
    "source_address_prefixes",
    "destination_port_range",
    "destination_port_ranges",
    "source_application_security_group_ids",
    "destination_address_prefix",
    "destination_address_prefixes",
    "destination_application_security_group_ids",
    "source_port_range",
    "source_port_ranges",
)


def ingress_rules(module: Module) -> Iterator[Document]:
    def key(instance: Instance, name_argument: str) -> tuple[Any, Any]:
        return instance.value("resource_group_name"), instance.value(name_argument)

    groups = {key(g, "name"): g for g in module.managed("azurerm_network_security_group")}
    separate_rules = module.managed("azurerm_network_security_rule")
    # Every rule of a group, inline or separate, by the group's resource group and name: deny
    # rules numbered lower take their ports out of the allows, as Azure evaluates them.
    by_group: dict[Any, list[dict[str, Any]]] = {}
    for group_key, group in groups.items():
        by_group[group_key] = list(group.blocks("security_rule"))
    for instance in separate_rules:
        rule = {name: instance.value(name) for name in RULE_KEYS}
        by_group.setdefault(key(instance, "network_security_group_name"), []).append(rule)

    def inline(group: Instance) -> Iterator[Document]:
        for rule in group.blocks("security_rule"):
            shown = _str(group.value("name")) or group.address
            yield from _rule_documents(module, group, shown, rule, by_group.get(key(group, "name"), []))

    def separate(instance: Instance) -> Iterator[Document]:
        rule = {name: instance.value(name) for name in RULE_KEYS}
        group_key = key(instance, "network_security_group_name")
        group = groups.get(group_key)
        group_name = _str((group or instance).value("name" if group else "network_security_group_name"))
        siblings = by_group.get(group_key, [])
        yield from _rule_documents(module, instance, group_name or instance.address, rule, siblings)

    yield from isolated(
        module, module.managed("azurerm_network_security_group"), "network.ingress", "azure", inline
    )
    yield from isolated(module, separate_rules, "network.ingress", "azure", separate)


def _denies_before(rule: dict[str, Any], siblings: list[dict[str, Any]]) -> list[Deny]:
    """The group's inbound deny rules Azure evaluates before `rule`, where all is known."""
    priority = rule.get("priority")
    if not isinstance(priority, int):
        return []
    out: list[Deny] = []
    for deny in siblings:
        if first_unknown(deny) or str(deny.get("access")).lower() != "deny":
            continue
        if str(deny.get("direction")).lower() != "inbound" or not isinstance(deny.get("priority"), int):
            continue
        if deny["priority"] >= priority:
            continue
        protocol, _ = protocol_name(deny.get("protocol") or "*")
        ranges = [_port_range(p, protocol)[:2] for p in _values(deny, "destination_port_range") if p != ""]
        out.append(
            Deny(
                protocol,
                tuple(_values(deny, "source_address_prefix") or ["*"]),
                tuple(ranges or [(0, 65535)]),
                _everywhere(deny),
            )
        )
    return out


PLURAL = {
    "source_address_prefix": "source_address_prefixes",
    "destination_address_prefix": "destination_address_prefixes",
    "destination_port_range": "destination_port_ranges",
    "source_port_range": "source_port_ranges",
}


def _values(rule: dict[str, Any], single: str) -> list[Any]:
    """A rule argument given as `single` or as its plural list ("" is how modules leave the
    one they do not use), with application security groups counted as sources."""
    found = [v for name in (single, PLURAL[single]) for v in as_list(rule.get(name)) if v not in ("", None)]
    if single == "source_address_prefix":
        found += as_list(rule.get("source_application_security_group_ids"))
    return found


def _everywhere(rule: dict[str, Any]) -> bool:
    """Every destination of the group, from every source port."""
    return (
        all(d == "*" for d in _values(rule, "destination_address_prefix"))
        and not as_list(rule.get("destination_application_security_group_ids"))
        and all(p == "*" for p in _values(rule, "source_port_range"))
    )


def _rule_documents(
    module: Module, holder: Instance, group_name: str, rule: dict[str, Any], siblings: list[dict[str, Any]]
) -> Iterator[Document]:
    direction, access = rule.get("direction"), rule.get("access")
    if str(direction).lower() == "outbound" or str(access).lower() == "deny":
        return
    # An unknown direction or access may let traffic in: every result depends on it.
    maybe = [("/rule", u) for u in (direction, access) if isinstance(u, Unknown)]
    protocol, protocol_unknown = protocol_name(rule.get("protocol") or "*")
    # "" is how modules leave the single-value argument unset when they give the list one.
    sources = [known_only_after_apply(s) for s in _values(rule, "source_address_prefix")]
    ports = [
        p
        for name in ("destination_port_range", "destination_port_ranges")
        for p in as_list(rule.get(name))
        if p != ""
    ]
    denies = _denies_before(rule, siblings)
    for source in sources or ["*"]:
        for port in ports or ["*"]:
            first, last, unknown_port = _port_range(port, protocol)
            shown = source if isinstance(source, str) else "(unknown)"
            cidr, source_type = rule_source(shown)
            known = not (unknown_port or protocol_unknown or maybe) and isinstance(source, str)
            parts = open_ports((first, last), protocol, shown, denies) if known else [(first, last)]
            for low, high in parts:
                yield from _one_rule(
                    module,
                    holder,
                    group_name,
                    rule,
                    (protocol, protocol_unknown),
                    (low, high, unknown_port),
                    (source, shown, cidr, source_type),
                    maybe,
                )


def _one_rule(
    module: Module,
    holder: Instance,
    group_name: str,
    rule: dict[str, Any],
    protocols: tuple[str, Unknown | None],
    ports: tuple[int, int, Unknown | None],
    sources: tuple[Any, str, str, str],
    maybe: list[tuple[str, Unknown]],
) -> Iterator[Document]:
    protocol, protocol_unknown = protocols
    low, high, unknown_port = ports
    source, shown, cidr, source_type = sources
    yield ingress(
        module,
        "azure",
        holder,
        {"id": placeholder(holder, "id"), "name": group_name, "network": None},
        {
            "protocol": protocol,
            "from_port": low,
            "to_port": high,
            "source": cidr,
            "source_type": source_type,
            "description": _str(rule.get("name")),
        },
        unknown_problems(
            [
                ("/rule/source", source),
                ("/rule/from_port", unknown_port),
                ("/rule/protocol", protocol_unknown),
                *maybe,
            ]
        ),
        written=shown,
    )


def _port_range(port: Any, protocol: str) -> tuple[int, int, Unknown | None]:
    if isinstance(port, Unknown):
        return 0, 65535, port
    text = str(port)
    if text == "*" or protocol not in ("tcp", "udp", "all"):
        return 0, 65535, None
    low, _, high = text.partition("-")
    return int(low), int(high or low), None


def dicom_stores(module: Module) -> Iterator[Document]:
    """Azure Health Data Services DICOM services: reached with Entra ID tokens only, so what
    matters is whether public networks reach them and which origins their CORS lets in."""
    yield from isolated(
        module,
        module.managed("azurerm_healthcare_dicom_service"),
        "dicom.store",
        "azure",
        lambda service: [_dicom_service(module, service)],
    )


def _dicom_service(module: Module, service: Instance) -> Document:
    doc = new_resource(
        "dicom.store",
        "azure",
        resource_id(module, service),
        name=named_identity(service),
        region=_str(service.value("location")),
        source=source_of(service),
    )
    doc["access"] = store_access({"present": False, "statement_count": 0})
    public = as_bool(service.value("public_network_access_enabled"), True)
    cors = (service.blocks("cors") or [{}])[0]
    key = service.value("encryption_key_url")
    origins = cors.get("allowed_origins") or []
    values = {
        "network": {"public_network_access": public},
        "cors": {
            "allow_any_origin": "*" in origins if isinstance(origins, list) else origins,
            "allow_credentials": as_bool(cors.get("allow_credentials"), False),
        },
        "encryption": {"customer_managed_key": bool(key), "kms_key": key},
        # On the customer's own storage, the studies sit in that account's file system.
        "copies": [
            {"type": "storage", "target": f"{s.get('storage_account_id')}/{s.get('file_system_name') or ''}"}
            for s in service.blocks("storage")
        ],
    }
    set_blocks(doc, values, service)
    return doc
