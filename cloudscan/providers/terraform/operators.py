"""Terraform's operators and conversions on evaluated values: arithmetic and comparison with
the string-to-number conversion Terraform makes, `&&` and `||` decided by a known operand
even when the other is unknown, and what a condition or a template accepts."""

from __future__ import annotations

import math
from typing import Any

from cloudscan.providers.terraform.expressions import Unknown, first_unknown, is_known


def binary(operator: str, left: Any, right: Any) -> Any:
    if operator in ("==", "!="):
        if not is_known(left) or not is_known(right):
            return first_unknown(left) or first_unknown(right)
        equal = _comparable(left) == _comparable(right)
        return equal if operator == "==" else not equal
    if isinstance(left, Unknown):
        return left
    if isinstance(right, Unknown):
        return right
    a, b = to_number(left), to_number(right)
    if isinstance(a, Unknown):
        return a
    if isinstance(b, Unknown):
        return b
    try:
        if operator == "+":
            return tidy(a + b)
        if operator == "-":
            return tidy(a - b)
        if operator == "*":
            return tidy(a * b)
        if operator == "/":
            return tidy(a / b)
        if operator == "%":
            return tidy(math.fmod(a, b))
        if operator == "<":
            return a < b
        if operator == ">":
            return a > b
        if operator == "<=":
            return a <= b
        if operator == ">=":
            return a >= b
    except (ZeroDivisionError, ValueError, OverflowError):
        return Unknown(f"{operator} cannot be computed", error=True)
    return Unknown(f"operator {operator} is not supported")


def logic(operator: str, left: Any, right: Any) -> Any:
    deciding = operator == "||"  # true decides ||, false decides &&
    for value in (left, right):
        if value is deciding:
            return deciding
    for value in (left, right):
        if isinstance(value, Unknown):
            return value
        if not isinstance(value, bool):
            return Unknown(f"{operator} of a value that is not a bool", error=True)
    return not deciding


def _comparable(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def to_number(value: Any) -> Any:
    if isinstance(value, bool):
        return Unknown("a bool where a number belongs", error=True)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return number(value.strip())
        except ValueError:
            pass
    return Unknown(f"{value!r} is not a number", error=True)


def number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return tidy(float(text))


def tidy(value: int | float) -> int | float:
    """A whole float as an int: Terraform has one number type, and 104.0 is port 104."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(tidy(value))
    return value


def as_condition(value: Any) -> Any:
    """A condition as Terraform converts it: a bool, or the strings "true" and "false"."""
    if isinstance(value, bool | Unknown):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    return Unknown("a condition that is not a bool", error=True)
