"""A saved plan (`terraform show -json plan.out > plan.json`) as instances with final values.

The plan has already resolved variables, count and for_each; values known only after apply
are missing from `values`, and the configuration section says which resource they refer to,
which is how a policy finds its bucket when the bucket's name is generated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cloudscan.inputs import InputError, read_text
from cloudscan.providers.terraform.config import Instance, Module
from cloudscan.providers.terraform.expressions import Unknown
from cloudscan.providers.terraform.files import ParseError

MAX_PLAN_BYTES = 256 * 1024 * 1024


def load_plan(path: Path, display: str) -> tuple[list[Module], list[ParseError]]:
    try:
        plan = json.loads(read_text(path, MAX_PLAN_BYTES))
    except InputError as exc:
        return [], [ParseError(display, None, str(exc))]
    except json.JSONDecodeError as exc:
        return [], [ParseError(display, exc.lineno, f"not valid JSON: {exc.msg}")]
    except RecursionError:
        return [], [ParseError(display, None, "not a plan: nested too deeply")]
    if not isinstance(plan, dict) or "planned_values" not in plan:
        return [], [
            ParseError(
                display, None, "not a plan: no planned_values (write it with terraform show -json PLANFILE)"
            )
        ]
    references = _references(plan.get("configuration", {}).get("root_module", {}), "")
    configured = _configured(plan.get("configuration", {}).get("root_module", {}), "")
    providers = _provider_settings(plan.get("configuration", {}))
    after_unknown = {
        change["address"]: change.get("change", {}).get("after_unknown")
        for change in plan.get("resource_changes", [])
        if "address" in change
    }
    modules: dict[str, Module] = {}
    planned = plan["planned_values"].get("root_module", {})
    prior = plan.get("prior_state", {}).get("values", {}).get("root_module", {})
    # Data sources (a rendered aws_iam_policy_document) are read during the plan: prior state.
    data = [(p, r) for p, r in _resources(prior) if r.get("mode") == "data"]
    for prefix, resource in [*data, *_resources(planned)]:
        if prefix not in modules:
            modules[prefix] = Module(path=display + (f"#{prefix}" if prefix else ""), providers=providers)
        config_prefix = re.sub(r"\[[^\]]*\]", "", prefix) + ("." if prefix else "")
        modules[prefix].instances.append(
            _instance(
                modules[prefix],
                resource,
                display,
                references.get(config_prefix, {}),
                after_unknown.get(resource["address"]),
                configured.get(config_prefix, {}),
            )
        )
    return list(modules.values()), []


def _resources(module: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for resource in module.get("resources", []):
        yield module.get("address", ""), resource
    for child in module.get("child_modules", []):
        yield from _resources(child)


def _instance(
    module: Module,
    resource: dict[str, Any],
    display: str,
    references: dict[str, dict[str, list[str]]],
    unknown: Any,
    configured: dict[str, Any],
) -> Instance:
    config_address = f"{resource['type']}.{resource['name']}"
    if resource.get("mode") == "data":
        config_address = "data." + config_address
    if config_address in configured:
        # A provider computes many attributes it then reports as unknown (a new bucket's
        # grant, logging, versioning, policy...): only those the configuration sets are
        # unknown settings; the rest are not set by this configuration at all.
        unknown = _configured_only(unknown, configured[config_address])
    return Instance(
        mode=resource.get("mode", "managed"),
        type=resource["type"],
        name=resource["name"],
        key=resource.get("index"),
        each_value=None,
        body=_known_after_apply(resource.get("values") or {}, unknown),
        file=display,
        line_start=1,
        line_end=1,
        module=module,
        planned=True,
        references={
            attribute: target
            for attribute, found in references.get(config_address, {}).items()
            if (target := _referenced_address(found, resource.get("index")))
        },
    )


def _known_after_apply(values: Any, unknown: Any) -> Any:
    """Values with what the plan marks as known only after apply replaced by Unknown: a policy
    built from a bucket's arn is missing from `values`, not absent from the configuration."""
    if unknown is True:
        return Unknown("known only after apply")
    if isinstance(unknown, dict) and isinstance(values, dict | None):
        out = dict(values or {})
        for key, marker in unknown.items():
            out[key] = _known_after_apply(out.get(key), marker)
        return out
    if isinstance(unknown, list) and isinstance(values, list | None):
        out_list = list(values or [])
        for index, marker in enumerate(unknown):
            if index < len(out_list):
                out_list[index] = _known_after_apply(out_list[index], marker)
            elif marker is True:
                out_list.append(Unknown("known only after apply"))
        return out_list
    return values


def _references(config_module: dict[str, Any], prefix: str) -> dict[str, dict[str, dict[str, list[str]]]]:
    """module prefix ("" or "module.archive.") -> config address -> attribute -> what (inside
    that module) its expression refers to, as the plan lists it."""
    out: dict[str, dict[str, dict[str, list[str]]]] = {prefix: {}}
    for resource in config_module.get("resources", []):
        refs = {}
        for attribute, expression in (resource.get("expressions") or {}).items():
            found = expression.get("references", []) if isinstance(expression, dict) else []
            if found:
                refs[attribute] = found
        out[prefix][resource["address"]] = refs
    for name, call in (config_module.get("module_calls") or {}).items():
        out.update(_references(call.get("module") or {}, f"{prefix}module.{name}."))
    return out


def _referenced_address(found: list[str], own_index: Any) -> str | None:
    """The resource instance an expression refers to, from the plan's references: the last
    resource-shaped one ("aws_s3_bucket.b.id", "aws_s3_bucket.b" name it). A reference indexed
    by each.key or count.index (written `aws_s3_bucket.b[each.key]`, listed as
    "aws_s3_bucket.b" and "each.key") is the instance with the referring instance's own key."""
    resources = [r for r in found if r.split(".")[0] not in NOT_RESOURCES and r.count(".") >= 1]
    if not resources:
        return None
    target = resources[-1]
    if own_index is not None and "[" not in target and ({"each.key", "count.index"} & set(found)):
        target += f"[{json.dumps(own_index)}]"
    return target


NOT_RESOURCES = {"var", "local", "each", "count", "path", "terraform", "module", "self"}


def _configured_only(unknown: Any, expressions: Any) -> Any:
    """The after_unknown markers of what the configuration's `expressions` write, block by block."""
    if not isinstance(unknown, dict | list) or not isinstance(expressions, dict | list):
        return unknown
    if isinstance(unknown, list):
        blocks = expressions if isinstance(expressions, list) else [expressions]
        return [
            _configured_only(u, blocks[min(i, len(blocks) - 1)]) if blocks else False
            for i, u in enumerate(unknown)
        ]
    if isinstance(expressions, list):
        expressions = expressions[0] if expressions else {}
    if "references" in expressions or "constant_value" in expressions:
        return unknown  # an argument written as one expression: all of it is configured
    return {
        key: _configured_only(marker, expressions[key])
        for key, marker in unknown.items()
        if key in expressions
    }


def _configured(config_module: dict[str, Any], prefix: str) -> dict[str, dict[str, Any]]:
    """module prefix -> config address -> the expressions its configuration writes."""
    out: dict[str, dict[str, Any]] = {prefix: {}}
    for resource in config_module.get("resources", []):
        out[prefix][resource["address"]] = resource.get("expressions") or {}
    for name, call in (config_module.get("module_calls") or {}).items():
        out.update(_configured(call.get("module") or {}, f"{prefix}module.{name}."))
    return out


def _provider_settings(configuration: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The constant arguments of each default (unaliased) provider configuration."""
    out: dict[str, dict[str, Any]] = {}
    for name, provider in (configuration.get("provider_config") or {}).items():
        if "." in name or not isinstance(provider, dict):  # "aws.west" is an alias
            continue
        expressions = provider.get("expressions") or {}
        out[name] = {
            key: value["constant_value"]
            for key, value in expressions.items()
            if isinstance(value, dict) and "constant_value" in value
        }
    return out
