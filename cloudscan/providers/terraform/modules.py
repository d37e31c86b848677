"""module blocks: a local module is read again with the arguments its caller passes, so a
module judged with its defaults cannot hide what the caller makes of it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cloudscan.providers.terraform.config import Module, ParseError, find_modules, load_module
from cloudscan.providers.terraform.expressions import evaluate

META_ARGUMENTS = {"source", "version", "count", "for_each", "providers", "depends_on"}
MAX_DEPTH = 8


def _callees(module: Module) -> set[Path]:
    out = set()
    for _, body, _, _ in module.calls:
        source = body.get("source")
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
    module: Module, display: Callable[[Path], str], problems: list[ParseError],
    chain: tuple[Path, ...] = (),
) -> list[Module]:
    """The modules `module` calls, read with its arguments, and theirs in turn."""
    out: list[Module] = []
    chain = chain or ((module.directory.resolve(),) if module.directory else ())
    for name, body, file, line in module.calls:
        source = body.get("source")
        where = f"{file}:{line}"
        if not isinstance(source, str) or not _is_local(source) or module.directory is None:
            problems.append(ParseError(where, None, f"module.{name}: source {source!r} is not read "
                                                    "(only local modules are); its resources are not judged"))
            continue
        directory = (module.directory / source).resolve()
        if directory in chain:
            problems.append(ParseError(where, None, f"module.{name}: calls a module that calls it (a cycle)"))
            continue
        if len(chain) > MAX_DEPTH:
            problems.append(ParseError(where, None, f"module.{name}: modules nested deeper than {MAX_DEPTH}"))
            continue
        resolve = lambda parts: module.resolve(parts, None)  # noqa: E731
        count = evaluate(body.get("count", 1), resolve)
        each = evaluate(body.get("for_each"), resolve) if "for_each" in body else None
        if count == 0 or each in ({}, []):
            continue
        found, missing = find_modules([directory])
        problems.extend(missing)
        files = found.get(directory, [])
        # With count or for_each the module is judged once; each.* and count.* stay unknown.
        inputs = {key: evaluate(value, resolve) for key, value in body.items()
                  if key not in META_ARGUMENTS and not key.startswith("__")}
        child, child_problems = load_module(directory, files, [], f"{module.path}/module.{name}",
                                            inputs=inputs, files_display=display(directory))
        problems.extend(child_problems)
        child.account = child.account or module.account
        child.project = child.project or module.project
        out.append(child)
        out.extend(instantiate(child, display, problems, (*chain, directory)))
    return out


def _is_local(source: str) -> bool:
    return source.startswith(("./", "../")) or source in (".", "..") or source.startswith("." + os.sep)

