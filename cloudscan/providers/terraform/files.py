"""Finding and reading the files of Terraform configuration: which directories hold .tf and
.tf.json files, and each file parsed once per scan (a local module called from many places
is not parsed again), through the bounded reader. A file that cannot be used is a ParseError
naming it, never an exception."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudscan.inputs import DEFAULT_LIMIT, InputError, read_text
from cloudscan.providers.terraform.hcl import HclError, from_json, parse_hcl

MAX_FILE_BYTES = DEFAULT_LIMIT
SKIPPED_DIRS = {".terraform", ".git", "node_modules"}


@dataclass
class ParseError:
    file: str
    line: int | None
    message: str
    # FileError: the file was not read; LimitExceeded: part of it was not expanded; ModuleNotRead:
    # a module from a registry or git, which this scan does not fetch.
    code: str = "FileError"


def find_modules(paths: Iterable[Path]) -> tuple[dict[Path, list[Path]], list[ParseError]]:
    """Directories holding .tf files, each with its files, and the paths that could not be used."""
    modules: dict[Path, list[Path]] = {}
    problems: list[ParseError] = []
    for path in paths:
        if path.is_file() or (path.exists() and not path.is_dir()):
            modules.setdefault(path.parent, []).append(path)
        elif path.is_dir():
            for directory, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
                tf = sorted(Path(directory) / f for f in files if f.endswith((".tf", ".tf.json")))
                if tf:
                    modules.setdefault(Path(directory), []).extend(tf)
        else:
            problems.append(ParseError(str(path), None, "no such file or directory"))
    return modules, problems


# Parsed files by identity: a local module called from many places is parsed once per scan.
_PARSED: dict[tuple[int, int, int, int], tuple[dict[str, Any] | None, ParseError | None]] = {}
_PARSED_LIMIT = 4096


def read_hcl(path: Path) -> tuple[dict[str, Any] | None, ParseError | None]:
    """A .tf, .tfvars or .tf.json file as a body; a file that cannot be used is a ParseError.
    Bodies are never changed after parsing, so one parse serves every caller of a module."""
    try:
        info = path.stat()
    except OSError:
        return _read_hcl(path)
    key = (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)
    if key not in _PARSED:
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[key] = _read_hcl(path)
    body, problem = _PARSED[key]
    if problem is not None:  # reported where this file was named
        problem = ParseError(str(path), problem.line, problem.message, problem.code)
    return body, problem


def _read_hcl(path: Path) -> tuple[dict[str, Any] | None, ParseError | None]:
    try:
        text = read_text(path, MAX_FILE_BYTES)
    except InputError as exc:
        return None, ParseError(str(path), None, str(exc))
    try:
        if path.name.endswith(".json"):
            document = json.loads(text)
            problem = _terraform_json_problem(document) if path.name.endswith(".tf.json") else None
            if problem:
                return None, ParseError(str(path), None, f"not a Terraform JSON file: {problem}")
            return from_json(document), None
        return parse_hcl(text.encode("utf-8")), None
    except json.JSONDecodeError as exc:
        return None, ParseError(str(path), exc.lineno, f"not valid JSON: {exc.msg}")
    except RecursionError:
        return None, ParseError(str(path), None, "nested too deeply")
    except HclError as exc:
        return None, ParseError(str(path), exc.line, str(exc))


def _terraform_json_problem(document: Any) -> str | None:
    """What makes a .tf.json file one Terraform would refuse, in the blocks this scan reads."""
    if not isinstance(document, dict):
        return "not an object"
    for block in ("resource", "data"):
        types = document.get(block)
        if types is None:
            continue
        for types_object in types if isinstance(types, list) else [types]:
            if not isinstance(types_object, dict):
                return f"/{block} must be an object"
            for type_, named in types_object.items():
                for names in named if isinstance(named, list) else [named]:
                    if not isinstance(names, dict):
                        return f"/{block}/{type_} must be an object of named blocks"
                    for name, body in names.items():
                        if not all(isinstance(b, dict) for b in (body if isinstance(body, list) else [body])):
                            return f"/{block}/{type_}/{name} must be an object"
    for block in ("variable", "locals", "module", "output", "provider"):
        value = document.get(block)
        if value is not None and not isinstance(value, dict | list):
            return f"/{block} must be an object"
    return None
