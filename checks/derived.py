"""What a check returns: the derived block, and which of its fields are unknown and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Derived:
    block: dict[str, Any]
    # derived field pointer -> the input pointers whose unknown value made it unknown
    unknown: dict[str, list[str]] = field(default_factory=dict)
