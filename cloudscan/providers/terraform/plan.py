"""A saved plan (`terraform show -json plan.out > plan.json`) as instances with final values.

The plan has already resolved variables, count and for_each; values known only after apply
are missing from `values`, and the configuration section says which resource they refer to,
which is how a policy finds its bucket when the bucket's name is generated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cloudscan.providers.terraform.config import Instance, Module, ParseError


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
    references = _references(plan.get("configuration", {}).get("root_module", {}))
    account = _allowed_account(plan.get("configuration", {}))
    modules: dict[str, Module] = {}
    planned = plan["planned_values"].get("root_module", {})
    prior = plan.get("prior_state", {}).get("values", {}).get("root_module", {})
    # Data sources (a rendered aws_iam_policy_document) are read during the plan: prior state.
    data = [(p, r) for p, r in _resources(prior) if r.get("mode") == "data"]
    for prefix, resource in [*data, *_resources(planned)]:
        if prefix not in modules:
            modules[prefix] = Module(path=display + (f"#{prefix}" if prefix else ""), account=account)
        modules[prefix].instances.append(_instance(modules[prefix], resource, display, references))
    return list(modules.values()), []


def _resources(module: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for resource in module.get("resources", []):
        yield module.get("address", ""), resource
    for child in module.get("child_modules", []):
        yield from _resources(child)


def _instance(module: Module, resource: dict[str, Any], display: str,
              references: dict[str, dict[str, str]]) -> Instance:
    address = resource["address"]
    local = address.split(".", 2)[-1] if address.startswith("module.") else address
    config_address = local.split("[", 1)[0]
    return Instance(
        mode=resource.get("mode", "managed"), type=resource["type"], name=resource["name"],
        key=resource.get("index"), each_value=None, body=resource.get("values") or {},
        file=display, line_start=1, line_end=1, module=module, planned=True,
        references=references.get(config_address, {}),
    )


def _references(config_module: dict[str, Any]) -> dict[str, dict[str, str]]:
    """config address -> attribute -> the resource address its expression refers to."""
    out: dict[str, dict[str, str]] = {}
    for resource in config_module.get("resources", []):
        refs = {}
        for attribute, expression in (resource.get("expressions") or {}).items():
            found = expression.get("references", []) if isinstance(expression, dict) else []
            if found:
                # ["aws_s3_bucket.b.id", "aws_s3_bucket.b"]: the last names the resource itself
                refs[attribute] = found[-1]
        out[resource["address"]] = refs
    return out


def _allowed_account(configuration: dict[str, Any]) -> str | None:
    for name, provider in (configuration.get("provider_config") or {}).items():
        if name.split(".")[0] != "aws":
            continue
        allowed = (provider.get("expressions") or {}).get("allowed_account_ids", {}).get("constant_value")
        if isinstance(allowed, list) and len(allowed) == 1:
            return str(allowed[0])
    return None
