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

from cloudscan.providers.terraform.config import Instance, Module, ParseError
from cloudscan.providers.terraform.expressions import Unknown


def load_plan(path: Path, display: str) -> tuple[list[Module], list[ParseError]]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return [], [ParseError(display, None, f"cannot be read: {exc}")]
    except json.JSONDecodeError as exc:
        return [], [ParseError(display, exc.lineno, f"not valid JSON: {exc.msg}")]
    if not isinstance(plan, dict) or "planned_values" not in plan:
        return [], [ParseError(display, None, "not a plan: no planned_values "
                                              "(write it with terraform show -json PLANFILE)")]
    references = _references(plan.get("configuration", {}).get("root_module", {}), "")
    account = _allowed_account(plan.get("configuration", {}))
    after_unknown = {change["address"]: change.get("change", {}).get("after_unknown")
                     for change in plan.get("resource_changes", []) if "address" in change}
    modules: dict[str, Module] = {}
    planned = plan["planned_values"].get("root_module", {})
    prior = plan.get("prior_state", {}).get("values", {}).get("root_module", {})
    # Data sources (a rendered aws_iam_policy_document) are read during the plan: prior state.
    data = [(p, r) for p, r in _resources(prior) if r.get("mode") == "data"]
    for prefix, resource in [*data, *_resources(planned)]:
        if prefix not in modules:
            modules[prefix] = Module(path=display + (f"#{prefix}" if prefix else ""), account=account)
        config_prefix = re.sub(r"\[[^\]]*\]", "", prefix) + ("." if prefix else "")
        modules[prefix].instances.append(_instance(
            modules[prefix], resource, display, references.get(config_prefix, {}),
            after_unknown.get(resource["address"])))
    return list(modules.values()), []


def _resources(module: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for resource in module.get("resources", []):
        yield module.get("address", ""), resource
    for child in module.get("child_modules", []):
        yield from _resources(child)


def _instance(module: Module, resource: dict[str, Any], display: str,
              references: dict[str, dict[str, str]], unknown: Any) -> Instance:
    config_address = f"{resource['type']}.{resource['name']}"
    if resource.get("mode") == "data":
        config_address = "data." + config_address
    return Instance(
        mode=resource.get("mode", "managed"), type=resource["type"], name=resource["name"],
        key=resource.get("index"), each_value=None,
        body=_known_after_apply(resource.get("values") or {}, unknown),
        file=display, line_start=1, line_end=1, module=module, planned=True,
        references=references.get(config_address, {}),
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


def _references(config_module: dict[str, Any], prefix: str) -> dict[str, dict[str, dict[str, str]]]:
    """module prefix ("" or "module.archive.") -> config address -> attribute -> the address
    (inside that module) its expression refers to."""
    out: dict[str, dict[str, dict[str, str]]] = {prefix: {}}
    for resource in config_module.get("resources", []):
        refs = {}
        for attribute, expression in (resource.get("expressions") or {}).items():
            found = expression.get("references", []) if isinstance(expression, dict) else []
            if found:
                # ["aws_s3_bucket.b.id", "aws_s3_bucket.b"]: the last names the resource itself
                refs[attribute] = found[-1]
        out[prefix][resource["address"]] = refs
    for name, call in (config_module.get("module_calls") or {}).items():
        out.update(_references(call.get("module") or {}, f"{prefix}module.{name}."))
    return out


def _allowed_account(configuration: dict[str, Any]) -> str | None:
    for name, provider in (configuration.get("provider_config") or {}).items():
        if name.split(".")[0] != "aws":
            continue
        allowed = (provider.get("expressions") or {}).get("allowed_account_ids", {}).get("constant_value")
        if isinstance(allowed, list) and len(allowed) == 1:
            return str(allowed[0])
    return None
