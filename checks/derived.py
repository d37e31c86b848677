"""What a check returns: the derived block, and which of its fields are unknown and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Derived:
    block: dict[str, Any]
    # derived field pointer -> the input pointers whose unknown value made it unknown
    unknown: dict[str, list[str]] = field(default_factory=dict)
    # derived field pointer -> (call, code, message): unknown for want of something the scan was
    # not told (CheckContext), not for an unread input of the resource
    untold: dict[str, tuple[str, str, str]] = field(default_factory=dict)
