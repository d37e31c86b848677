"""module blocks: a local module is read again with the arguments its caller passes, so a
module judged with its defaults cannot hide what the caller makes of it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cloudscan.providers.terraform.config import Module, load_module
from cloudscan.providers.terraform.expressions import Resolver, Unknown, as_int, dig, evaluate, is_known
from cloudscan.providers.terraform.files import ParseError, find_modules

META_ARGUMENTS = {"source", "version", "count", "for_each", "providers", "depends_on"}
MAX_DEPTH = 8
# Module instances one root may make in all, however wide or deep its calls go.
MAX_MODULE_INSTANCES = 200


def _source(module: Module, body: dict[str, Any]) -> Any:
    return evaluate(body.get("source"), lambda parts: module.resolve(parts, None))


def _callees(module: Module) -> set[Path]:
    out = set()
    for _, body, _, _ in module.calls:
        source = _source(module, body)
        if module.directory and isinstance(source, str) and _is_local(source):
            out.add((module.directory / source).resolve())
    return out


def judged_through_callers(modules: list[Module]) -> set[Path]:
    """Scanned directories that a chain of calls from an uncalled directory reaches: they are
    judged with their callers' arguments. A directory only called from within a cycle is
    still judged on its own, so a cycle cannot hide it."""
    calls = {m.directory.resolve(): _callees(m) for m in modules if m.directory is not None}
    called = set().union(*calls.values()) if calls else set()
    reached: set[Path] = set()
    todo = [d for d in calls if d not in called]
    while todo:
        for callee in calls.get(todo.pop(), set()):
            if callee not in reached:
                reached.add(callee)
                todo.append(callee)
    return reached


def instantiate(
    module: Module,
    display: Callable[[Path], str],
    problems: list[ParseError],
    chain: tuple[Path, ...] = (),
    budget: list[int] | None = None,
) -> list[Module]:
    """The modules `module` calls, read with its arguments, and theirs in turn. A call with
    count or for_each is read once per instance, with count.index or each.key and each.value
    bound. `budget` counts module instances left for the whole tree of calls."""
    out: list[Module] = []
    budget = budget if budget is not None else [MAX_MODULE_INSTANCES]
    chain = chain or ((module.directory.resolve(),) if module.directory else ())
    for name, body, file, line in module.calls:
        source = _source(module, body)
        # `file` is the name the reports show; the error is named from the file's own path, once.
        where = str(module.directory / Path(file).name) if module.directory is not None else file
        if not isinstance(source, str) or not _is_local(source) or module.directory is None:
            shown = source if isinstance(source, str) else "(not known)"
            problems.append(
                ParseError(
                    where,
                    line,
                    f"module.{name}: source {shown!r} is not read "
                    "(only local modules are); its resources are not judged",
                    "ModuleNotRead",
                )
            )
            continue
        directory = (module.directory / source).resolve()
        if directory in chain:
            problems.append(ParseError(where, line, f"module.{name}: calls a module that calls it (a cycle)"))
            continue
        if len(chain) > MAX_DEPTH:
            problems.append(
                ParseError(
                    where, line, f"module.{name}: modules nested deeper than {MAX_DEPTH}", "LimitExceeded"
                )
            )
            continue
        found, missing = find_modules([directory])
        if missing:
            problems.append(ParseError(where, line, f"module.{name}: source {source!r}: no such directory"))
            continue
        files = found.get(directory, [])
        for key, bound in _instances_of_call(module, body):
            if budget[0] <= 0:
                problems.append(
                    ParseError(
                        where,
                        line,
                        f"module.{name}: more than {MAX_MODULE_INSTANCES} "
                        "module instances in all; the rest are not read",
                        "LimitExceeded",
                    )
                )
                return out
            budget[0] -= 1
            address = f"module.{name}" + ("" if key is None else f"[{json.dumps(key)}]")
            inputs = {
                k: evaluate(v, bound)
                for k, v in body.items()
                if k not in META_ARGUMENTS and not k.startswith("__")
            }
            child_address = f"{module.address}.{address}" if module.address else address
            child, child_problems = load_module(
                directory,
                files,
                [],
                f"{module.path}/{address}",
                inputs=inputs,
                files_display=display(directory),
                address=child_address,
            )
            problems.extend(child_problems)
            for provider, config in module.providers.items():  # a child inherits its caller's
                child.providers.setdefault(provider, config)
            module.add_child(name, key, child)
            out.append(child)
            out.extend(instantiate(child, display, problems, (*chain, directory), budget))
    return out


def _instances_of_call(module: Module, body: dict[str, Any]) -> list[tuple[Any, Resolver]]:
    """(key, resolver) for each instance a module block makes: none for count = 0 or an empty
    for_each; one, with each.* and count.* unknown, when how many is not known."""

    def resolver(key: Any, value: Any, kind: str) -> Resolver:
        def resolve(parts: list[Any]) -> Any:
            if kind == "count" and parts[0] == "count":
                return key if parts[1:] == ["index"] else Unknown("count has only .index", error=True)
            if kind == "each" and parts[0] == "each":
                return dig({"key": key, "value": value}, parts[1:])
            return module.resolve(parts, None)

        return resolve

    plain = lambda parts: module.resolve(parts, None)  # noqa: E731

    def unknown_instances(kind: str, value: Any) -> Resolver:
        """Read once, with count.* or each.* unknown: how many instances there are is not known."""
        why = value.reason if isinstance(value, Unknown) else f"{value!r} is not a number, map or set"

        def resolve(parts: list[Any]) -> Any:
            if parts[0] == kind:
                return Unknown(
                    f"{'.'.join(map(str, parts))}: how many instances of this module exist is not "
                    f"known: {why}"
                )
            return module.resolve(parts, None)

        return resolve

    if "count" in body:
        count = as_int(evaluate(body["count"], plain))
        if isinstance(count, int):
            return [(i, resolver(i, None, "count")) for i in range(min(count, MAX_MODULE_INSTANCES + 1))]
        return [(None, unknown_instances("count", count))]
    if "for_each" in body:
        each = evaluate(body["for_each"], plain)
        if isinstance(each, dict):
            pairs = list(each.items())[: MAX_MODULE_INSTANCES + 1]
            return [(key, resolver(key, value, "each")) for key, value in pairs]
        if isinstance(each, list) and is_known(each):
            return [(key, resolver(key, key, "each")) for key in each[: MAX_MODULE_INSTANCES + 1]]
        return [(None, unknown_instances("each", each))]
    return [(None, plain)]


def _is_local(source: str) -> bool:
    return source.startswith(("./", "../")) or source in (".", "..") or source.startswith("." + os.sep)
