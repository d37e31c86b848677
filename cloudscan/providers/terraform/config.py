"""Terraform configuration as data: the files of one directory read as one module (tree-sitter
HCL, see hcl.py), then variables, locals and tfvars resolved and count and for_each expanded
into instances. Files are read first and evaluated after, so the order of files in a directory
(main.tf before variables.tf) never matters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudscan.providers.terraform.attributes import lookup
from cloudscan.providers.terraform.expressions import (
    Index,
    Reference,
    Unknown,
    UnknownBlock,
    dig,
    evaluate,
    is_known,
    settle,
)
from cloudscan.providers.terraform.files import ParseError, read_hcl
from cloudscan.providers.terraform.types import ANY, conform, read_type

# Bounds on what one module may expand to: past one, that resource is an error naming the limit.
MAX_INSTANCES_PER_RESOURCE = 1_000
MAX_INSTANCES_PER_MODULE = 10_000
MAX_RESOURCES_PER_FILE = 5_000


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
        return settle(evaluate(node, lambda parts: self.module.resolve(parts, self)))

    def blocks(self, name: str) -> list[dict[str, Any]]:
        """Nested blocks of `name`, evaluated (python-hcl2 gives blocks as lists of objects),
        with those a `dynamic "name"` block generates."""
        found = self.value(name)
        if isinstance(found, Unknown):
            return [UnknownBlock(found)]
        blocks = (
            [found]
            if isinstance(found, dict)
            else [
                b if isinstance(b, dict) else UnknownBlock(b)
                for b in found or []
                if isinstance(b, dict | Unknown)
            ]
            if isinstance(found, list)
            else []
        )
        if "dynamic" in self.body and not self.planned:
            resolve = lambda parts: self.module.resolve(parts, self)  # noqa: E731
            generated = settle(evaluate({"dynamic": self.body["dynamic"]}, resolve))
            blocks += [b for b in generated.get(name, []) if isinstance(b, dict)]
        return blocks


@dataclass
class InstanceRef(Reference):
    """A resource instance as an expression sees it: its attributes are looked up lazily."""

    instance: Instance

    def attribute(self, name: str) -> Any:
        return lookup(self.instance, name)

    def describe(self) -> str:
        return self.instance.address


@dataclass
class ModuleRef(Reference):
    """A module instance as an expression sees it: `module.name.output`."""

    module: Module

    def attribute(self, name: str) -> Any:
        return self.module.output(name)

    def describe(self) -> str:
        return self.module.path


@dataclass
class Module:
    """The .tf files of one directory."""

    path: str  # as the user wrote it, relative where possible
    # The module's address in its root ("" for a root, "module.store" for a module it calls):
    # computed values of its resources are named with it, so two modules never share one.
    address: str = ""
    # Files of the module that could not be read: a resource there may configure another.
    unreadable: list[str] = field(default_factory=list)
    directory: Path | None = None
    # module blocks: (name, body, file, line)
    calls: list[tuple[str, dict[str, Any], str, int]] = field(default_factory=list)
    # The default (unaliased) configuration of each provider, by provider name, with its
    # top-level arguments evaluated: what each cloud's mapper reads its account from.
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)  # output name -> its value expression
    # Local modules this one calls, once read: name -> a Module, or a list (count) or a map
    # (for_each) of them. Registry modules are absent.
    children: dict[str, Any] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)
    # Resource blocks read but not yet expanded into instances, by (mode, type, name): a
    # reference expands its target first, whatever file or order it is written in.
    pending: dict[tuple[str, str, str], list[tuple[dict[str, Any], str]]] = field(default_factory=dict)
    problems: list[ParseError] = field(default_factory=list)
    _expanding: set[tuple[str, str, str]] = field(default_factory=set)
    _resolving: set[str] = field(default_factory=set)
    _local_values: dict[str, Any] = field(default_factory=dict)
    # The root module and every module instance it calls, once read: settings of a resource
    # (an IAM binding, a bucket policy) may sit in another module than the resource itself.
    tree: list[Module] = field(default_factory=list, repr=False)
    _indexed: int = 0
    _by_name: dict[tuple[str, str, str], list[Instance]] = field(default_factory=dict)
    _by_type: dict[tuple[str, str], list[Instance]] = field(default_factory=dict)

    def managed(self, type_: str) -> list[Instance]:
        """Every instance of a resource type (not data sources)."""
        self._index()
        return list(self._by_type.get(("managed", type_), ()))

    def related(self, type_: str) -> list[Instance]:
        """Every instance of a resource type in this module's tree of module calls."""
        return [i for module in (self.tree or [self]) for i in module.managed(type_)]

    def find(self, mode: str, type_: str, name: str) -> list[Instance]:
        if (mode, type_, name) in self.pending:
            self.expand((mode, type_, name))
        self._index()
        return list(self._by_name.get((mode, type_, name), ()))

    def _index(self) -> None:
        """Index instances added since the last call (instances are only ever appended)."""
        for instance in self.instances[self._indexed :]:
            self._by_name.setdefault((instance.mode, instance.type, instance.name), []).append(instance)
            self._by_type.setdefault((instance.mode, instance.type), []).append(instance)
        self._indexed = len(self.instances)

    def expand(self, key: tuple[str, str, str]) -> None:
        """Turn the pending blocks of one resource into instances (count, for_each)."""
        if key in self._expanding or key not in self.pending:
            return  # a count that refers to its own resource stays as it is: reported below
        self._expanding.add(key)
        try:
            for body, file in self.pending[key]:
                if len(self.instances) > MAX_INSTANCES_PER_MODULE:
                    too_many = f"the module makes more than {MAX_INSTANCES_PER_MODULE} resource instances"
                    self.problems.append(
                        ParseError(file, _line(body), f"{too_many}: the rest are not read", "LimitExceeded")
                    )
                    break
                try:
                    self.instances.extend(_expand(self, *key, body, file))
                except _TooMany as exc:
                    self.problems.append(ParseError(file, _line(body), str(exc), "LimitExceeded"))
        finally:
            self._expanding.discard(key)
            del self.pending[key]

    def resolve(self, parts: list[Any], here: Instance | None) -> Any:
        root = parts[0]
        if root == "var" and len(parts) >= 2:
            return dig(self.variables.get(parts[1], Unknown(f"var.{parts[1]} is not declared")), parts[2:])
        if root == "local" and len(parts) >= 2:
            return dig(self._local(str(parts[1])), parts[2:])
        if root == "count" and here is not None and isinstance(here.key, int):
            return here.key if parts[1:] == ["index"] else Unknown("count has only .index", error=True)
        if root == "each" and here is not None and here.key is not None:
            return dig({"key": here.key, "value": here.each_value}, parts[1:])
        if root == "data" and len(parts) >= 3:
            rest = parts[3:]
            return dig(self._instances("data", str(parts[1]), str(parts[2]), rest), rest)
        if root in ("count", "each") and here is not None and here.uncertain:
            return Unknown(f"{root}.{'.'.join(map(str, parts[1:]))}: {here.uncertain}")
        if root == "module" and len(parts) >= 2:
            return dig(self._child(str(parts[1])), parts[2:])
        if root in ("path", "terraform", "module", "self", "count", "each"):
            return Unknown(
                f"{'.'.join(str(p.key if isinstance(p, Index) else p) for p in parts)} "
                "is not known before apply"
            )
        if len(parts) >= 2:
            rest = parts[2:]
            return dig(self._instances("managed", str(root), str(parts[1]), rest), rest)
        return Unknown(f"{root} is not a reference this scanner knows")

    def _child(self, name: str) -> Any:
        if name not in self.children:
            return Unknown(f"module.{name} is not a local module this scan reads")
        child = self.children[name]
        if isinstance(child, list):
            return [ModuleRef(c) for c in child]
        if isinstance(child, dict):
            return {k: ModuleRef(c) for k, c in child.items()}
        return ModuleRef(child)

    def add_child(self, name: str, key: Any, child: Module) -> None:
        """Record a module instance this one calls; values that read its outputs are worked out
        again from now on."""
        if key is None:
            self.children[name] = child
        elif isinstance(key, int):
            self.children.setdefault(name, []).append(child)
        else:
            self.children.setdefault(name, {})[str(key)] = child
        self._local_values.clear()

    def output(self, name: str) -> Any:
        if name not in self.outputs:
            return Unknown(f"{self.path} has no output {name!r}", error=True)
        key = f"output.{name}"
        if key in self._resolving:
            return Unknown(f"output {name} refers to itself")
        self._resolving.add(key)
        try:
            return evaluate(self.outputs[name], lambda parts: self.resolve(parts, None))
        finally:
            self._resolving.discard(key)

    def _local(self, name: str) -> Any:
        if name in self._local_values:
            return self._local_values[name]
        if name not in self.locals:
            return Unknown(f"local.{name} is not declared")
        if name in self._resolving:
            return Unknown(f"local.{name} refers to itself")
        self._resolving.add(name)
        try:
            value = evaluate(self.locals[name], lambda parts: self.resolve(parts, None))
        finally:
            self._resolving.discard(name)
        self._local_values[name] = value
        return value

    def _instances(self, mode: str, type_: str, name: str, rest: list[Any]) -> Any:
        """A resource as a whole: one instance, a list (count) or a map (for_each) of them."""
        key = (mode, type_, name)
        label = ("data." if mode == "data" else "") + f"{type_}.{name}"
        if key in self._expanding:
            return Unknown(f"{label}: its count or for_each refers to itself")
        found = self.find(mode, type_, name)
        if not found:
            return Unknown(f"{label} is not in this configuration")
        if len(found) == 1 and found[0].uncertain:
            # How many exist is not known: a reference to one of them still means this block.
            if rest and isinstance(rest[0], Index):
                rest.pop(0)
            return InstanceRef(found[0])
        if all(i.key is None for i in found):
            return InstanceRef(found[0])
        if all(isinstance(i.key, int) for i in found):
            return [InstanceRef(i) for i in sorted(found, key=lambda i: i.key)]
        return {str(i.key): InstanceRef(i) for i in found}


def load_module(
    directory: Path,
    files: list[Path],
    var_files: list[Path],
    display: str,
    *,
    inputs: dict[str, Any] | None = None,
    files_display: str | None = None,
    address: str = "",
) -> tuple[Module, list[ParseError]]:
    """One directory as a module. `inputs` are the arguments of a module block calling it
    (then tfvars files do not apply); `files_display` is where its files are shown to be."""
    module = Module(path=display, directory=directory, address=address)
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
            continue
        for key, value in (parsed or {}).items():
            if not key.startswith("__"):
                values[key] = evaluate(value, _no_references)
    module.unreadable = [
        f"{p.file}" + (f":{p.line}" if p.line else "")
        for p in problems
        if p.file.endswith((".tf", ".tf.json"))
    ]
    resources: list[tuple[str, str, str, dict[str, Any], str]] = []
    for file, parsed in documents:
        shown = Path(files_display) / file.name if files_display not in ("", ".") else Path(file.name)
        before = len(resources)
        _collect(module, str(shown), parsed, values, resources)
        if len(resources) - before > MAX_RESOURCES_PER_FILE:
            del resources[before + MAX_RESOURCES_PER_FILE :]
            problems.append(
                ParseError(
                    str(file),
                    None,
                    f"more than {MAX_RESOURCES_PER_FILE} resource blocks in one file: the rest are not read",
                    "LimitExceeded",
                )
            )
    _configure_providers(module, [parsed for _, parsed in documents])
    order: dict[tuple[str, str, str], int] = {}
    for mode, type_, name, body, file_shown in resources:
        module.pending.setdefault((mode, type_, name), []).append((body, file_shown))
        order.setdefault((mode, type_, name), len(order))
    for block in list(order):
        module.expand(block)
    # Instances in the order their blocks are written, however references made them expand.
    module.instances.sort(key=lambda i: order[(i.mode, i.type, i.name)])
    module._indexed, module._by_name, module._by_type = 0, {}, {}
    problems.extend(module.problems)
    module.problems = []
    return module, problems


def _no_references(parts: list[Any]) -> Unknown:
    return Unknown(f"{'.'.join(map(str, parts))}: a tfvars file cannot refer to other values", error=True)


def _collect(
    module: Module,
    file: str,
    parsed: dict[str, Any],
    values: dict[str, Any],
    resources: list[tuple[str, str, str, dict[str, Any], str]],
) -> None:
    for block in _as_configs(parsed.get("variable")):
        for name, body in block.items():
            if name.startswith("__"):
                continue
            kind = read_type(body.get("type")) if isinstance(body, dict) else ANY
            if name in values:
                module.variables[name] = conform(values[name], kind)
            elif isinstance(body, dict) and "default" in body:
                module.variables[name] = conform(evaluate(body["default"], _no_references), kind)
            else:
                module.variables[name] = Unknown(f"var.{name} has no default and no value in a tfvars file")
    for block in _as_configs(parsed.get("module")):
        for name, body in block.items():
            if isinstance(body, dict):
                module.calls.append((name, body, file, _line(body)))
    for block in _as_configs(parsed.get("output")):
        for name, body in block.items():
            if isinstance(body, dict) and "value" in body:
                module.outputs[name] = body["value"]
    for block in _as_configs(parsed.get("locals")):
        module.locals.update({k: v for k, v in block.items() if not k.startswith("__")})
    for mode, key in (("managed", "resource"), ("data", "data")):
        for block in _as_configs(parsed.get(key)):  # .tf.json has objects where HCL has lists
            for type_, named in block.items():
                for named_block in _as_configs(named):
                    for name, body in named_block.items():
                        for one in _as_configs(body):
                            resources.append((mode, type_, name, one, file))


def _configure_providers(module: Module, documents: list[dict[str, Any]]) -> None:
    resolve = lambda parts: module.resolve(parts, None)  # noqa: E731
    for parsed in documents:
        for block in _as_configs(parsed.get("provider")):
            for name, configs in block.items():
                for config in _as_configs(configs):
                    if "alias" in config:  # used only by resources that name it
                        continue
                    module.providers[name] = {
                        key: evaluate(value, resolve)
                        for key, value in config.items()
                        if not key.startswith("__") and not _is_block(value)
                    }


def _is_block(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _as_configs(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value or [] if isinstance(v, dict)] if isinstance(value, list) else []


def _line(body: dict[str, Any]) -> int:
    line = body.get("__start_line__", 1)
    return line if isinstance(line, int) else 1


class _TooMany(Exception):
    pass


def _expand(
    module: Module, mode: str, type_: str, name: str, body: dict[str, Any], file: str
) -> Iterator[Instance]:
    """One instance, or one per count index / for_each key; none for count = 0 or empty for_each."""

    def make(key: Any, each_value: Any, uncertain: str | None = None) -> Instance:
        end = body.get("__end_line__", 1)
        return Instance(
            mode,
            type_,
            name,
            key,
            each_value,
            body,
            file,
            _line(body),
            end if isinstance(end, int) else 1,
            module,
            uncertain=uncertain,
        )

    address = f"{'data.' if mode == 'data' else ''}{type_}.{name}"
    limit = f"{address}: more than {MAX_INSTANCES_PER_RESOURCE} instances; this scanner judges no more"
    resolve = lambda parts: module.resolve(parts, None)  # noqa: E731
    if "count" in body:
        count = evaluate(body["count"], resolve)
        if isinstance(count, bool):
            count = int(count)
        if isinstance(count, int | float):
            if count > MAX_INSTANCES_PER_RESOURCE:
                raise _TooMany(limit)
            for index in range(int(count)):
                yield make(index, None)
            return
        reason = count.reason if isinstance(count, Unknown) else f"count = {count!r}"
        yield make(None, None, f"whether it exists is not known: {reason}")  # judged as written
        return
    if "for_each" in body:
        each = evaluate(body["for_each"], resolve)
        if isinstance(each, dict | list) and len(each) > MAX_INSTANCES_PER_RESOURCE:
            raise _TooMany(limit)
        if isinstance(each, dict):
            for key, value in each.items():
                yield make(key, value)
            return
        if isinstance(each, list) and is_known(each) and all(isinstance(k, str) for k in each):
            for key in each:
                yield make(key, key)
            return
        reason = each.reason if isinstance(each, Unknown) else "for_each is not a known map or set of strings"
        yield make(None, None, f"how many exist is not known: {reason}")
        return
    yield make(None, None)
