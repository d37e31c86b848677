"""Evaluating one HCL expression tree (tree-sitter nodes) to a value, or Unknown with why."""

from __future__ import annotations

from typing import Any

from cloudscan.providers.terraform.expressions import (
    Index,
    Reference,
    Resolver,
    Unknown,
    first_unknown,
    is_known,
    step_into,
)
from cloudscan.providers.terraform.functions import call_function
from cloudscan.providers.terraform.hcl import Expr, unescape
from cloudscan.providers.terraform.operators import as_condition, as_text, binary, logic, number, to_number

MAX_DEPTH = 200  # nested expressions; a hostile file gets Unknown, not a RecursionError
MAX_ITEMS = 100_000  # elements a for expression or a function may build


class _Limit(Exception):
    pass


def evaluate_expression(expr: Expr, resolve: Resolver) -> Any:
    try:
        value = _Evaluator(expr.source, resolve).expression(expr.node, 0)
        if expr.strip_newline and isinstance(value, str):
            value = value.removesuffix("\n")
        return value
    except _Limit as exc:
        return Unknown(f"line {expr.line}: {exc}", error=True)
    except RecursionError:
        return Unknown(f"line {expr.line}: expression nested too deeply", error=True)
    except Exception as exc:  # a construct this evaluator gets wrong is unknown, never a crash
        return Unknown(f"line {expr.line}: cannot be evaluated ({type(exc).__name__})", error=True)


MAX_STEPS = 200_000  # loop iterations one expression may make, nested loops together
MAX_TEXT = 1_000_000  # characters a template may build


class _Evaluator:
    def __init__(self, source: bytes, resolve: Resolver, budget: list[int] | None = None) -> None:
        self.source, self.resolve = source, resolve
        self.budget = budget if budget is not None else [MAX_STEPS]

    def spend(self, steps: int = 1) -> None:
        self.budget[0] -= steps
        if self.budget[0] < 0:
            raise _Limit(f"more than {MAX_STEPS} loop iterations in one expression")

    def scoped(self, scope: dict[str, Any]) -> _Evaluator:
        """An evaluator for a loop body: the loop's names bound, the same budget."""
        self.spend()
        return _Evaluator(self.source, _scoped(self.resolve, scope), self.budget)

    def text(self, node: Any) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    # -- expressions ------------------------------------------------------------------------
    def expression(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _Limit(f"expression nested deeper than {MAX_DEPTH}")
        if node.type != "expression":
            return self.term(node, depth)
        return self.sequence([c for c in node.children if c.type != "comment"], depth)

    def sequence(self, children: list[Any], depth: int) -> Any:
        """A term and the steps after it: an expression's children, or an operand's."""
        if depth > MAX_DEPTH:
            raise _Limit(f"expression nested deeper than {MAX_DEPTH}")
        if not children:
            return Unknown("an empty expression", error=True)
        first = children[0]
        if first.type == "(":
            value = self.expression(children[1], depth + 1)
            rest = children[3:]
        elif first.type == "variable_expr":
            return self.traversal(first, children[1:], depth)
        else:
            value = self.term(first, depth + 1)
            rest = children[1:]
        return self.steps(value, rest, depth)

    def term(self, node: Any, depth: int) -> Any:
        kind = node.type
        if kind == "expression":
            return self.expression(node, depth + 1)
        if kind == "literal_value":
            return self.literal(node.named_children[0])
        if kind == "template_expr":
            return self.template(node.named_children[0], depth)
        if kind == "collection_value":
            return self.collection(node.named_children[0], depth)
        if kind == "function_call":
            return self.call(node, depth)
        if kind == "for_expr":
            return self.for_expression(node.named_children[0], depth)
        if kind == "operation":
            return self.operation(node.named_children[0], depth)
        if kind == "conditional":
            return self.conditional(node, depth)
        if kind == "variable_expr":
            return self.traversal(node, [], depth)
        return Unknown(f"{kind.replace('_', ' ')} is not supported")

    def literal(self, node: Any) -> Any:
        kind = node.type
        if kind == "numeric_lit":
            return number(self.text(node))
        if kind == "bool_lit":
            return self.text(node) == "true"
        if kind == "null_lit":
            return None
        return self.template(node, 0)  # string_lit

    # -- references, attributes, indexes, splats --------------------------------------------
    def traversal(self, root: Any, steps: list[Any], depth: int) -> Any:
        parts: list[Any] = [self.text(root)]
        position = 0
        for position, step in enumerate(steps):  # noqa: B007 - position is used after the loop
            part = self.static_step(step, depth)
            if part is None:
                break
            if isinstance(part, Unknown):
                return part
            parts.append(part)
        else:
            position = len(steps)
        return self.steps(self.resolve(parts), steps[position:], depth)

    def static_step(self, step: Any, depth: int) -> Any:
        """A .name or [key] step as a traversal part; None for a splat."""
        if step.type == "get_attr":
            return self.text(step.named_children[0])
        if step.type == "index":
            inner = step.named_children[0]
            if inner.type == "legacy_index":
                return Index(int(self.text(inner).lstrip(".")))
            key = self.expression(inner.named_children[0], depth + 1)
            return key if isinstance(key, Unknown) else Index(key)
        return None

    def steps(self, value: Any, steps: list[Any], depth: int) -> Any:
        for position, step in enumerate(steps):
            if isinstance(value, Unknown):
                return value
            if step.type == "splat":
                return self.splat(value, step.named_children[0], steps[position + 1 :], depth)
            part = self.static_step(step, depth)
            value = step_into(value, part)
        return value

    def splat(self, value: Any, splat: Any, after: list[Any], depth: int) -> Any:
        """`[*]` applies every following step to each element (another splat included); the
        legacy `.*` applies only the attribute steps right after it, and what follows them
        (`.*.a[0]`) to the resulting list."""
        items = [] if value is None else value if isinstance(value, list) else [value]
        inner = list(splat.named_children)
        if splat.type == "attr_splat":
            attributes = 0
            while attributes < len(inner) and inner[attributes].type == "get_attr":
                attributes += 1
            each, rest = inner[:attributes], inner[attributes:] + after
        else:
            each, rest = inner + after, []
        self.spend(len(items))
        out = [self.steps(item, each, depth) for item in items]
        return self.steps(out, rest, depth)

    # -- strings ------------------------------------------------------------------------------
    def template(self, node: Any, depth: int) -> Any:
        """A quoted string or heredoc, its interpolations and directives evaluated."""
        children = [c for c in node.children if c.type != "comment"]
        if node.type == "heredoc_template":
            opener = self.text(children[0])
            identifiers = [c for c in children if c.type == "heredoc_identifier"]
            start = self.source.index(b"\n", identifiers[0].end_byte) + 1 if identifiers else node.end_byte
            end = identifiers[-1].start_byte if len(identifiers) > 1 else node.end_byte
            end = self.source.rfind(b"\n", start, end) + 1 or start
            parts = [c for c in children if c.start_byte >= start and c.end_byte <= end]
            indent = _common_indent(self.source[start:end]) if opener.endswith("-") else 0
            return self.template_parts(parts, start, end, depth, heredoc=True, indent=indent)
        start = children[0].end_byte if children else node.start_byte
        end = children[-1].start_byte if len(children) > 1 else node.end_byte
        return self.template_parts(children[1:-1], start, end, depth, heredoc=False, indent=0)

    def template_parts(
        self,
        parts: list[Any],
        start: int,
        end: int,
        depth: int,
        *,
        heredoc: bool,
        indent: int,
        strip: tuple[bool, bool] = (False, False),
    ) -> Any:
        """Literal text and the values of interpolations and directives between `start` and
        `end`. A strip marker (`${~ x ~}`, `%{ if c ~}`) removes the white space on its side;
        `strip` says whether the markers around this range ask for it at its two ends."""
        pieces: list[Any] = []
        position = start
        strip_next = strip[0]
        for part in parts:
            if part.type == "template_literal":
                continue
            text = self.literal_text(position, part.start_byte, heredoc, indent)
            opening, closing = _strip_markers(part)
            pieces.append(_strip(text, strip_next, opening))
            position = part.end_byte
            strip_next = closing
            if part.type == "template_interpolation":
                inner = next((c for c in part.named_children if c.type == "expression"), None)
                pieces.append(self.expression(inner, depth + 1) if inner is not None else "")
            elif part.type == "template_directive":
                pieces.append(self.directive(part.named_children[0], depth, heredoc, indent))
        pieces.append(_strip(self.literal_text(position, end, heredoc, indent), strip_next, strip[1]))
        if (
            len(pieces) == 3
            and pieces[0] == ""
            and pieces[2] == ""
            and not heredoc
            and parts
            and parts[0].type == "template_interpolation"
        ):
            return pieces[1]  # "${x}" alone keeps x's type
        return _join(pieces)

    def literal_text(self, start: int, end: int, heredoc: bool, indent: int) -> str:
        raw = self.source[start:end].decode("utf-8", "replace")
        if indent:
            at_line_start = start == 0 or self.source[start - 1 : start] == b"\n"
            lines = raw.split("\n")
            raw = "\n".join(
                _dedent(line, indent) if i or at_line_start else line for i, line in enumerate(lines)
            )
        raw = raw.replace("$${", "${").replace("%%{", "%{")
        return raw.replace("\r\n", "\n") if heredoc else unescape(raw)

    def directive(self, node: Any, depth: int, heredoc: bool, indent: int) -> Any:
        children = node.named_children
        if node.type == "template_if":
            intro = children[0]
            condition = self.expression(_expression_child(intro), depth)
            else_intro = next((c for c in children if c.type == "template_else_intro"), None)
            end = children[-1]
            condition = as_condition(condition)
            if isinstance(condition, Unknown):
                return condition
            if condition is True:
                stop_node = else_intro if else_intro is not None else end
                stop = stop_node.start_byte
                body = [c for c in children[1:] if c.end_byte <= stop]
                strip = (_strip_markers(intro)[1], _strip_markers(stop_node)[0])
                return self.template_parts(
                    body, intro.end_byte, stop, depth, heredoc=heredoc, indent=indent, strip=strip
                )
            if else_intro is None:
                return ""
            body = [c for c in children if c.start_byte >= else_intro.end_byte and c is not end]
            strip = (_strip_markers(else_intro)[1], _strip_markers(end)[0])
            return self.template_parts(
                body, else_intro.end_byte, end.start_byte, depth, heredoc=heredoc, indent=indent, strip=strip
            )
        if node.type == "template_for":
            intro, end = children[0], children[-1]
            names = [self.text(c) for c in intro.named_children if c.type == "identifier"]
            collection = self.expression(_expression_child(intro), depth)
            body = children[1:-1]
            out = []
            strip = (_strip_markers(intro)[1], _strip_markers(end)[0])
            for key, value in _pairs(collection):
                scope = dict(zip(names, (key, value) if len(names) == 2 else (value,), strict=False))
                out.append(
                    self.scoped(scope).template_parts(
                        body,
                        intro.end_byte,
                        end.start_byte,
                        depth,
                        heredoc=heredoc,
                        indent=indent,
                        strip=strip,
                    )
                )
            if isinstance(collection, Unknown):
                return collection
            if not isinstance(collection, list | dict):
                return Unknown("%{for} over a value that is not a collection", error=True)
            return _join(out)
        return Unknown(f"template {node.type} is not supported")

    # -- collections and for expressions ----------------------------------------------------
    def collection(self, node: Any, depth: int) -> Any:
        if node.type == "tuple":
            return [self.expression(c, depth + 1) for c in node.named_children if c.type == "expression"]
        out: dict[str, Any] = {}
        for element in node.named_children:
            if element.type != "object_elem":
                continue
            key_node = element.child_by_field_name("key")
            value = self.expression(element.child_by_field_name("val"), depth + 1)
            key = self.object_key(key_node, depth)
            if isinstance(key, Unknown):
                return Unknown(f"an object key is not known: {key.reason}", error=key.error)
            out[key] = value
        return out

    def object_key(self, node: Any, depth: int) -> Any:
        children = [c for c in node.children if c.type != "comment"]
        if len(children) == 1 and children[0].type == "variable_expr":
            return self.text(children[0])  # a bare name is the key itself
        key = self.expression(node, depth + 1)
        if isinstance(key, bool | int | float) and not isinstance(key, bool):
            return as_text(key)
        if isinstance(key, bool):
            return "true" if key else "false"
        return key if isinstance(key, str | Unknown) else Unknown("an object key is not a string", error=True)

    def for_expression(self, node: Any, depth: int) -> Any:
        intro = next(c for c in node.named_children if c.type == "for_intro")
        names = [self.text(c) for c in intro.named_children if c.type == "identifier"]
        collection = self.expression(_expression_child(intro), depth + 1)
        bodies = [c for c in node.named_children if c.type == "expression"]
        condition = next((c for c in node.named_children if c.type == "for_cond"), None)
        grouping = any(c.type == "ellipsis" for c in node.named_children)
        if isinstance(collection, Unknown):
            return Unknown(
                f"for expression over a value that is not known: {collection.reason}", error=collection.error
            )
        if isinstance(collection, Reference):
            return Unknown(f"for expression over {collection.describe()}")
        if not isinstance(collection, list | dict):
            return Unknown("for expression over a value that is not a collection", error=True)
        if len(collection) > MAX_ITEMS:
            raise _Limit(f"for expression over more than {MAX_ITEMS} items")
        out_list: list[Any] = []
        out_map: dict[str, Any] = {}
        for key, value in _pairs(collection):
            scope = dict(zip(names, (key, value) if len(names) == 2 else (value,), strict=False))
            inner = self.scoped(scope)
            if condition is not None:
                keep = as_condition(inner.expression(condition.named_children[0], depth + 1))
                if isinstance(keep, Unknown):
                    return Unknown(
                        f"a for expression's if condition is not known: {keep.reason}", error=keep.error
                    )
                if keep is not True:
                    continue
            if node.type == "for_tuple_expr":
                out_list.append(inner.expression(bodies[0], depth + 1))
                continue
            item_key = inner.expression(bodies[0], depth + 1)
            if isinstance(item_key, Unknown):
                return Unknown(
                    f"a for expression's key is not known: {item_key.reason}", error=item_key.error
                )
            item_key = as_text(item_key)
            if not isinstance(item_key, str):
                return Unknown("a for expression's key is not a string", error=True)
            item = inner.expression(bodies[1], depth + 1)
            if grouping:
                out_map.setdefault(item_key, []).append(item)
            elif item_key in out_map:
                return Unknown(f"for expression makes the key {item_key!r} twice", error=True)
            else:
                out_map[item_key] = item
        return out_list if node.type == "for_tuple_expr" else out_map

    # -- functions, operators, conditionals ---------------------------------------------------
    def call(self, node: Any, depth: int) -> Any:
        name = self.text(node.named_children[0])
        arguments = next((c for c in node.named_children if c.type == "function_arguments"), None)
        nodes = [c for c in arguments.named_children if c.type == "expression"] if arguments else []
        expands = arguments is not None and any(c.type == "ellipsis" for c in arguments.named_children)
        if name in ("try", "can"):  # each argument is tried in turn: errors are caught
            return self.try_can(name, nodes, depth)
        args = [self.expression(c, depth + 1) for c in nodes]
        if expands and args:
            last = args.pop()
            if not isinstance(last, list):
                return last if isinstance(last, Unknown) else Unknown("... expands a non-list", error=True)
            args.extend(last)
        return call_function(name, args)

    def try_can(self, name: str, nodes: list[Any], depth: int) -> Any:
        for node in nodes:
            value = self.expression(node, depth + 1)
            problem = first_unknown(value)
            if problem is None:
                return True if name == "can" else value
            if not problem.error:
                return problem  # not known: which branch wins is not known either
            if name == "can":
                return False
        return Unknown(f"{name}(): no argument could be evaluated", error=True)

    def operation(self, node: Any, depth: int) -> Any:
        children = [c for c in node.children if c.type != "comment"]
        if node.type == "unary_operation":
            operator, value = self.text(children[0]), self.sequence(children[1:], depth + 1)
            if isinstance(value, Unknown):
                return value
            if operator == "!":
                return (not value) if isinstance(value, bool) else Unknown("! of a non-bool", error=True)
            operand = to_number(value)
            return -operand if isinstance(operand, int | float) else operand
        # Operands are flattened into the node: the operator is the one unnamed child that
        # is not a parenthesis of an operand.
        depth_in_parens, split = 0, None
        for position, child in enumerate(children):
            if child.type == "(":
                depth_in_parens += 1
            elif child.type == ")":
                depth_in_parens -= 1
            elif not child.is_named and depth_in_parens == 0:
                split = position
                break
        if split is None:
            return Unknown("an operation without an operator", error=True)
        operator = children[split].type
        left = self.sequence(children[:split], depth + 1)
        right = self.sequence(children[split + 1 :], depth + 1)
        if operator in ("&&", "||"):
            return logic(operator, left, right)
        return binary(operator, left, right)

    def conditional(self, node: Any, depth: int) -> Any:
        condition, yes, no = [
            self.expression(c, depth + 1) for c in node.named_children if c.type == "expression"
        ][:3]
        if isinstance(condition, Unknown):
            if not condition.error and is_known(yes) and is_known(no) and yes == no:
                return yes
            # An error stays an error, so that try() around it moves on to its next argument.
            return Unknown(f"a condition is not known: {condition.reason}", error=condition.error)
        condition = as_condition(condition)
        if isinstance(condition, Unknown):
            return condition
        return yes if condition else no


def _join(pieces: list[Any]) -> Any:
    out: list[str] = []
    size = 0
    for piece in pieces:
        if isinstance(piece, Unknown):
            return piece
        if piece is None:
            return Unknown("a null value inside a string", error=True)
        if isinstance(piece, list | dict | Reference):
            return first_unknown(piece) or Unknown("a list or object inside a string", error=True)
        text = as_text(piece)
        size += len(text)
        if size > MAX_TEXT:
            raise _Limit(f"a template builds more than {MAX_TEXT} characters")
        out.append(text)
    return "".join(out)


def _strip_markers(node: Any) -> tuple[bool, bool]:
    """Whether a template part asks to strip the white space before it and after it: a `~`
    right after its opening `${` or `%{`, and right before its closing `}`. For a directive,
    the opening is its first clause's and the closing its last clause's."""
    if node.type == "template_directive":
        clauses = node.named_children[0].named_children if node.named_children else []
        if not clauses:
            return False, False
        return _strip_markers(clauses[0])[0], _strip_markers(clauses[-1])[1]
    children = node.children
    before = len(children) > 1 and children[1].type == "strip_marker"
    after = len(children) > 1 and children[-2].type == "strip_marker"
    return before, after


def _strip(text: str, leading: bool, trailing: bool) -> str:
    if leading:
        text = text.lstrip()
    if trailing:
        text = text.rstrip()
    return text


def _expression_child(node: Any) -> Any:
    return next(c for c in node.named_children if c.type == "expression")


def _pairs(collection: Any) -> list[tuple[Any, Any]]:
    if isinstance(collection, dict):
        return list(collection.items())
    if isinstance(collection, list):
        return list(enumerate(collection))
    return []


def _scoped(resolve: Resolver, scope: dict[str, Any]) -> Resolver:
    def resolve_here(parts: list[Any]) -> Any:
        if parts[0] in scope:
            value = scope[parts[0]]
            for part in parts[1:]:
                value = step_into(value, part)
            return value
        return resolve(parts)

    return resolve_here


def _common_indent(body: bytes) -> int:
    lines = [line for line in body.decode("utf-8", "replace").split("\n") if line.strip()]
    return min((len(line) - len(line.lstrip(" \t")) for line in lines), default=0)


def _dedent(line: str, indent: int) -> str:
    stripped = 0
    while stripped < indent and stripped < len(line) and line[stripped] in " \t":
        stripped += 1
    return line[stripped:]
