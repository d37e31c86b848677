"""Terraform configuration as data: files parsed with python-hcl2, one module per directory,
variables, locals and tfvars resolved, count and for_each expanded into instances."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudscan.providers.terraform.expressions import Index, Unknown, dig, evaluate, is_known

MAX_FILE_BYTES = 5 * 1024 * 1024
SKIPPED_DIRS = {".terraform", ".git", "node_modules"}


@dataclass
class Instance:
    """One resource or data source instance: `aws_s3_bucket.b`, `aws_s3_bucket.b[0]`, ..."""

    mode: str  # "managed" or "data"
    type: str
    name: str
    key: Any  # count index or for_each key; None when neither is used
    each_value: Any
    body: dict[str, Any]
    file: str
    line_start: int
    line_end: int
    module: Module = field(repr=False)
    # From a plan: `body` holds final values, not expressions, and `references` maps an
    # attribute whose value is known only after apply to the address it refers to.
    planned: bool = False
    references: dict[str, str] = field(default_factory=dict)
    # Why it may not exist at all (a count or for_each that cannot be worked out), or None.
    uncertain: str | None = None

    @property
    def address(self) -> str:
        base = f"{self.type}.{self.name}" if self.mode == "managed" else f"data.{self.type}.{self.name}"
        if self.key is None:
            return base
        return f"{base}[{json.dumps(self.key)}]"

    def value(self, *path: str) -> Any:
        """An attribute or nested block, evaluated; None when absent."""
        node: Any = self.body
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        if self.planned:  # values, not templates: "${aws:username}" in a policy stays as it is
            return node
        return evaluate(node, lambda parts: self.module.resolve(parts, self))

    def blocks(self, name: str) -> list[dict[str, Any]]:
        """Nested blocks of `name`, evaluated (python-hcl2 gives blocks as lists of objects),
        with those a `dynamic "name"` block generates."""
        found = self.value(name)
        blocks = [found] if isinstance(found, dict) else [b for b in found or [] if isinstance(b, dict)]
        if "dynamic" in self.body and not self.planned:
            resolve = lambda parts: self.module.resolve(parts, self)  # noqa: E731
            generated = evaluate({"dynamic": self.body["dynamic"]}, resolve)
            blocks += [b for b in generated.get(name, []) if isinstance(b, dict)]
        return blocks


@dataclass
class Module:
    """The .tf files of one directory."""

    path: str  # as the user wrote it, relative where possible
    # Files of the module that could not be read: a resource there may configure another.
    unreadable: list[str] = field(default_factory=list)
    directory: Path | None = None
    # module blocks: (name, body, file, line)
    calls: list[tuple[str, dict[str, Any], str, int]] = field(default_factory=list)
    account: str | None = None  # the AWS account the provider block pins (allowed_account_ids)
    project: str | None = None  # the GCP project of the google provider block
    variables: dict[str, Any] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)
    _resolving: set[str] = field(default_factory=set)

    def managed(self, type_: str) -> list[Instance]:
        """Every instance of a resource type (not data sources)."""
        return [i for i in self.instances if i.mode == "managed" and i.type == type_]

    def find(self, mode: str, type_: str, name: str) -> list[Instance]:
        return [i for i in self.instances if i.mode == mode and i.type == type_ and i.name == name]

    def resolve(self, parts: list[Any], here: Instance | None) -> Any:
        root = parts[0]
        if root == "var":
            return dig(self.variables.get(parts[1], Unknown(f"var.{parts[1]} is not declared")), parts[2:])
        if root == "local":
            return dig(self._local(parts[1]), parts[2:])
        if root == "count" and here is not None and isinstance(here.key, int):
            return here.key
        if root == "each" and here is not None and here.key is not None:
            return dig({"key": here.key, "value": here.each_value}, parts[1:])
        if root == "data" and len(parts) >= 3:
            return self._attribute("data", parts[1], parts[2], parts[3:])
        if root in ("path", "terraform", "module", "self", "count", "each"):
            return Unknown(f"{'.'.join(map(str, parts))} is not known before apply")
        if len(parts) >= 2:
            return self._attribute("managed", parts[0], parts[1], parts[2:])
        return Unknown(f"{root} is not a reference this scanner knows")

    def _local(self, name: str) -> Any:
        if name not in self.locals:
            return Unknown(f"local.{name} is not declared")
        if name in self._resolving:
            return Unknown(f"local.{name} refers to itself")
        self._resolving.add(name)
        try:
            return evaluate(self.locals[name], lambda parts: self.resolve(parts, None))
        finally:
            self._resolving.discard(name)

    def _attribute(self, mode: str, type_: str, name: str, rest: list[Any]) -> Any:
        from cloudscan.providers.terraform import attributes  # computed attributes per type

        found = self.find(mode, type_, name)
        label = ("data." if mode == "data" else "") + f"{type_}.{name}"
        if not found:
            return Unknown(f"{label} is not in this configuration")
        if rest and isinstance(rest[0], Index):  # [0] or ["key"]
            found = [i for i in found if i.key == rest[0].key]
            rest = rest[1:]
        if len(found) != 1:
            return Unknown(f"{label} has {len(found)} instances here")
        instance = found[0]
        if not rest:
            return Unknown(f"{label} as a whole object is not supported")
        return dig(attributes.attribute(instance, str(rest[0])), rest[1:])


# -- reading files -----------------------------------------------------------------------------

@dataclass
class ParseError:
    file: str
    line: int | None
    message: str


def find_modules(paths: Iterable[Path]) -> tuple[dict[Path, list[Path]], list[ParseError]]:
    """Directories holding .tf files, each with its files, and the paths that could not be used."""
    modules: dict[Path, list[Path]] = {}
    problems: list[ParseError] = []
    for path in paths:
        if path.is_file():
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


def read_hcl(path: Path) -> tuple[dict[str, Any] | None, ParseError | None]:
    import hcl2  # imported here: parsing is only needed for Terraform scans

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, ParseError(str(path), None, f"skipped: {size} bytes is more than {MAX_FILE_BYTES}")
        raw = path.read_bytes()
    except OSError as exc:
        return None, ParseError(str(path), None, f"cannot be read: {exc.strerror}")
    if b"\0" in raw:
        return None, ParseError(str(path), None, "skipped: a binary file")
    try:
        text = raw.decode("utf-8")
        if path.suffix == ".json":
            return json.loads(text), None
        return hcl2.loads(text, with_meta=True), None
    except UnicodeDecodeError:
        return None, ParseError(str(path), None, "skipped: not UTF-8 text")
    except json.JSONDecodeError as exc:
        return None, ParseError(str(path), exc.lineno, f"not valid JSON: {exc.msg}")
    except Exception as exc:  # lark's errors carry a line; anything else is still this file's
        line = getattr(exc, "line", None)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        line = line if isinstance(line, int) else None
        return None, ParseError(str(path), line, f"does not parse: {first}")


def load_module(
    directory: Path, files: list[Path], var_files: list[Path], display: str,
    *, inputs: dict[str, Any] | None = None, files_display: str | None = None,
) -> tuple[Module, list[ParseError]]:
    """One directory as a module. `inputs` are the arguments of a module block calling it
    (then tfvars files do not apply); `files_display` is where its files are shown to be."""
    module = Module(path=display, directory=directory)
    files_display = display if files_display is None else files_display
    problems: list[ParseError] = []
    documents = []
    for file in files:
        parsed, problem = read_hcl(file)
        if problem:
            problems.append(problem)
        else:
            documents.append((file, parsed or {}))
    values: dict[str, Any] = dict(inputs or {})
    auto = [directory / "terraform.tfvars", *sorted(directory.glob("*.auto.tfvars"))]
    for var_file in [] if inputs is not None else [f for f in auto if f.is_file()] + list(var_files):
        parsed, problem = read_hcl(var_file)
        if problem:
            problems.append(problem)
        else:
            values.update({k: v for k, v in (parsed or {}).items() if not k.startswith("__")})
    module.unreadable = [f"{p.file}" + (f":{p.line}" if p.line else "") for p in problems
                         if p.file.endswith((".tf", ".tf.json"))]
    for file, parsed in documents:
        shown = Path(files_display) / file.name if files_display not in ("", ".") else Path(file.name)
        _collect(module, shown, parsed, values)
    return module, problems


def _collect(module: Module, file: Path, parsed: dict[str, Any], values: dict[str, Any]) -> None:
    for block in _as_configs(parsed.get("variable")):
        for name, body in block.items():
            if name in values:
                module.variables[name] = values[name]
            elif isinstance(body, dict) and "default" in body:
                module.variables[name] = body["default"]
            else:
                module.variables[name] = Unknown(f"var.{name} has no default and no value in a tfvars file")
    for block in _as_configs(parsed.get("provider")):
        for config in _as_configs(block.get("google")):
            project = evaluate(config.get("project"), lambda parts: module.resolve(parts, None))
            if isinstance(project, str):
                module.project = project
        settings = block.get("aws")
        for config in settings if isinstance(settings, list) else [settings] if settings else []:
            allowed = evaluate(config.get("allowed_account_ids"), lambda parts: module.resolve(parts, None))
            if isinstance(allowed, list) and len(allowed) == 1 and isinstance(allowed[0], str):
                module.account = allowed[0]
    for block in _as_configs(parsed.get("module")):
        for name, body in block.items():
            if isinstance(body, dict):
                module.calls.append((name, body, str(file), body.get("__start_line__", 1)))
    for block in _as_configs(parsed.get("locals")):
        module.locals.update({k: v for k, v in block.items() if not k.startswith("__")})
    for mode, key in (("managed", "resource"), ("data", "data")):
        for block in _as_configs(parsed.get(key)):  # .tf.json has objects where HCL has lists
            for type_, named in block.items():
                for named_block in _as_configs(named):
                    for name, body in named_block.items():
                        for one in _as_configs(body):
                            module.instances.extend(_expand(module, mode, type_, name, one, str(file)))


def _as_configs(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value or [] if isinstance(v, dict)]


def _expand(
    module: Module, mode: str, type_: str, name: str, body: dict[str, Any], file: str
) -> Iterator[Instance]:
    """One instance, or one per count index / for_each key; none for count = 0 or empty for_each."""
    def make(key: Any, each_value: Any, uncertain: str | None = None) -> Instance:
        return Instance(mode, type_, name, key, each_value, body, file,
                        body.get("__start_line__", 1), body.get("__end_line__", 1), module,
                        uncertain=uncertain)

    if "count" in body:
        count = evaluate(body["count"], lambda parts: module.resolve(parts, None))
        if isinstance(count, bool):
            count = int(count)
        if isinstance(count, int | float):
            for index in range(int(count)):
                yield make(index, None)
            return
        reason = count.reason if isinstance(count, Unknown) else f"count = {count!r}"
        yield make(None, None, f"whether it exists is not known: {reason}")  # judged as written
        return
    if "for_each" in body:
        each = evaluate(body["for_each"], lambda parts: module.resolve(parts, None))
        if isinstance(each, dict) and is_known(list(each)):
            for key, value in each.items():
                yield make(key, value)
            return
        if isinstance(each, list) and is_known(each):
            for key in each:
                yield make(key, key)
            return
        reason = each.reason if isinstance(each, Unknown) else "for_each is not a known map or set"
        yield make(None, None, f"how many exist is not known: {reason}")
        return
    yield make(None, None)
