"""The condition language of alert rules: a whitelisted subset of Python expressions,
parsed with `ast` and evaluated by walking the tree (never `eval`).
"""

from __future__ import annotations

import ast
import operator
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import NoneType
from typing import Any

from services.monitoring.domain.evidence import Fact, FactType
from shared.errors import DomainError

MAX_CONDITION_LENGTH = 500
_MAX_CONDITION_NODES = 200

_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda item, group: item in group,
    ast.NotIn: lambda item, group: item not in group,
}
_ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_MEMBERSHIPS = (ast.In, ast.NotIn)

# Friendlier names for the constructs people most often try.
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access is",
    ast.Call: "function calls are",
    ast.Subscript: "indexing is",
    ast.BinOp: "arithmetic is",
    ast.Lambda: "lambda is",
    ast.NamedExpr: "assignment is",
    ast.IfExp: "if-else expressions are",
    ast.List: "lists are",
    ast.Set: "sets are",
    ast.Dict: "a dict is",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.JoinedStr: "f-strings are",
    ast.Starred: "unpacking is",
    ast.Await: "await is",
}


def _condition_error(rule: str) -> DomainError:
    return DomainError("condition", rule)


def _is_signed_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    )


def _check_node(node: ast.AST) -> None:
    """Refuse anything outside the whitelist, outermost construct first."""
    match node:
        case ast.BoolOp(op=ast.And() | ast.Or(), values=values):
            for value in values:
                _check_node(value)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            _check_node(operand)
        case ast.UnaryOp() if _is_signed_number(node):
            pass
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            for op in ops:
                if type(op) not in _COMPARISONS:
                    raise _condition_error(f"operator {type(op).__name__} is not allowed")
            for operand in (left, *comparators):
                _check_node(operand)
        case ast.Name():
            pass  # dunder names were refused before this walk
        case ast.Constant(value=value):
            if type(value) not in (bool, int, float, str, NoneType):
                raise _condition_error(f"literal {value!r} is not allowed")
        case ast.Tuple(elts=elements):
            for element in elements:
                if not isinstance(element, ast.Constant) and not _is_signed_number(element):
                    raise _condition_error("tuples may hold only literal values")
                _check_node(element)
        case _:
            what = _REFUSED.get(type(node), f"{type(node).__name__} is")
            hint = "; use a tuple" if isinstance(node, ast.List | ast.Set) else ""
            raise _condition_error(f"{what} not allowed in a condition{hint}")


def _literal_type(value: object) -> str:
    if isinstance(value, bool):
        return FactType.BOOL.value
    if isinstance(value, int | float):
        return FactType.NUMBER.value
    if isinstance(value, str):
        return FactType.TEXT.value
    return "none"


def _check_pair(left: str, op: ast.cmpop, right: str) -> None:
    """Refuse comparisons that could never be meaningful, e.g. text < number."""
    if isinstance(op, _MEMBERSHIPS):
        if right.startswith("tuple:"):
            member = right.removeprefix("tuple:")
            if member in ("empty", left) or left == "none":
                return
        elif left == right == FactType.TEXT:
            return  # substring test
        raise _condition_error(f"'in' cannot look for {left} in {right}")
    if isinstance(op, _ORDERINGS):
        if left == right and left in (FactType.NUMBER, FactType.TEXT):
            return
        raise _condition_error(f"ordering needs two numbers or two texts, got {left} and {right}")
    if left != right and "none" not in (left, right):
        raise _condition_error(f"cannot compare {left} with {right}")


@dataclass(frozen=True)
class Condition:
    """A parsed, whitelisted condition; evaluate it with `evaluate(facts)`.

    Semantics: a missing value (None) never satisfies an ordering (`<`, `>=`, ...),
    so a rule does not fire on data that was not supplied.
    """

    source: str
    tree: ast.Expression

    @property
    def names(self) -> frozenset[str]:
        """Field names the condition reads."""
        return frozenset(n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name))

    def check_types(self, fact_types: Mapping[str, FactType]) -> None:
        """Refuse unknown field names, mismatched comparisons and non-boolean results."""
        if self._infer(self.tree.body, fact_types) != FactType.BOOL:
            raise _condition_error("must be true or false, e.g. attendance_pct < 80")

    def evaluate(self, facts: Mapping[str, Fact]) -> bool:
        return bool(self._eval(self.tree.body, facts))

    def _infer(self, node: ast.AST, types: Mapping[str, FactType]) -> str:
        match node:
            case ast.BoolOp(values=values) | ast.UnaryOp(op=ast.Not(), operand=values):
                operands = values if isinstance(values, list) else [values]
                for operand in operands:
                    if self._infer(operand, types) != FactType.BOOL:
                        raise _condition_error("and/or/not need true-or-false operands")
                return FactType.BOOL.value
            case ast.UnaryOp():
                return FactType.NUMBER.value
            case ast.Constant(value=value):
                return _literal_type(value)
            case ast.Name(id=name):
                if name not in types:
                    known = ", ".join(sorted(types))
                    raise _condition_error(f"unknown field '{name}'; fields are: {known}")
                return types[name].value
            case ast.Tuple(elts=elements):
                members = {self._infer(e, types) for e in elements} - {"none"}
                if len(members) > 1:
                    raise _condition_error("a tuple must hold values of one type")
                return "tuple:" + (members.pop() if members else "empty")
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                kinds = [self._infer(operand, types) for operand in (left, *comparators)]
                for index, op in enumerate(ops):
                    _check_pair(kinds[index], op, kinds[index + 1])
                return FactType.BOOL.value
        raise _condition_error(f"{type(node).__name__} is not allowed in a condition")

    def _eval(self, node: ast.AST, facts: Mapping[str, Fact]) -> Any:
        match node:
            case ast.BoolOp(op=ast.And(), values=values):
                return all(self._eval(v, facts) for v in values)
            case ast.BoolOp(op=ast.Or(), values=values):
                return any(self._eval(v, facts) for v in values)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return not self._eval(operand, facts)
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return -self._eval(operand, facts)
            case ast.UnaryOp(operand=operand):
                return self._eval(operand, facts)
            case ast.Constant(value=value):
                return value
            case ast.Tuple(elts=elements):
                return tuple(self._eval(e, facts) for e in elements)
            case ast.Name(id=name):
                if name not in facts:
                    raise _condition_error(f"unknown field '{name}'")
                return facts[name]
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                return self._compare(left, ops, comparators, facts)
        raise _condition_error(f"{type(node).__name__} is not allowed in a condition")

    def _compare(
        self,
        left: ast.expr,
        ops: list[ast.cmpop],
        comparators: list[ast.expr],
        facts: Mapping[str, Fact],
    ) -> bool:
        current = self._eval(left, facts)
        for op, comparator in zip(ops, comparators, strict=True):
            following = self._eval(comparator, facts)
            if isinstance(op, _ORDERINGS) and (current is None or following is None):
                return False
            try:
                holds = _COMPARISONS[type(op)](current, following)
            except TypeError as exc:  # only reachable if check_types was skipped
                raise _condition_error(f"cannot compare: {exc}") from None
            if not holds:
                return False
            current = following
        return True


@lru_cache(maxsize=1024)
def parse_condition(source: str) -> Condition:
    """Parse a condition such as `attendance_pct < 80 and term == "2025-autumn"`.

    Allowed: field names, numbers, strings, True/False/None, tuples of literals,
    comparisons (== != < <= > >= in, not in, chained), and/or/not. Everything else
    (attribute access, calls, indexing, arithmetic, imports, dunder names) is refused
    with a DomainError(field="condition"). Parsed with `ast`, evaluated by walking the
    tree: nothing is ever passed to eval.
    """
    text = source.strip()
    if not text:
        raise _condition_error("must not be empty")
    if len(text) > MAX_CONDITION_LENGTH:
        raise _condition_error(f"must be at most {MAX_CONDITION_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        if re.search(r"\bimport\b", text):
            raise _condition_error("imports are not allowed in a condition") from None
        raise _condition_error(f"invalid syntax: {exc.msg} (column {exc.offset})") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > _MAX_CONDITION_NODES:
        raise _condition_error("is too complex")
    for node in nodes:
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
        if isinstance(name, str) and name.startswith("__"):
            raise _condition_error(f"names starting with '__' are not allowed ({name})")
    _check_node(tree.body)
    return Condition(source=text, tree=tree)


def _cause_fields(template: str) -> list[str]:
    """Placeholders of a cause template; only plain `{field}` names are allowed."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise DomainError("cause_template", f"invalid template: {exc}") from None
    fields = []
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        # str.format would follow {x.__class__} or {x[0]}: plain names only.
        if not field.isidentifier() or field.startswith("_") or spec or conversion:
            raise DomainError("cause_template", "placeholders must be plain field names")
        fields.append(field)
    return fields


def render_cause(template: str, facts: Mapping[str, Fact]) -> str:
    """Fill a cause template such as "attendance:{term}" from evidence facts."""
    rendered = []
    for literal, field, _, _ in string.Formatter().parse(template):
        rendered.append(literal)
        if field is not None:
            if field not in facts:
                raise DomainError("cause_template", f"unknown field '{field}'")
            rendered.append(str(facts[field]))
    return "".join(rendered)
