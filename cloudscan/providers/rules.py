"""What deny rules leave of an allow rule, for any cloud's firewall: port ranges minus the
ranges denied, and whether a deny's source holds the whole of an allow's."""

from __future__ import annotations

import ipaddress

ALL_PORTS = (0, 65535)


def subtract(span: tuple[int, int], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of the port range `span` outside every range of `holes`."""
    parts = [span]
    for hole_low, hole_high in holes:
        parts = [
            piece
            for low, high in parts
            for piece in ((low, min(high, hole_low - 1)), (max(low, hole_high + 1), high))
            if piece[0] <= piece[1]
        ]
    return parts


def covers(denied: str, source: str) -> bool:
    """Whether a deny's source range holds every address of the allow's source, in the same
    address family (a deny of 0.0.0.0/0 leaves ::/0 open). A tag, a service account or an
    application security group covers only itself."""
    if denied == source:
        return True
    try:
        outer, inner = ipaddress.ip_network(denied, strict=False), ipaddress.ip_network(source, strict=False)
    except ValueError:
        return False
    return outer.version == inner.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The same ports as `spans`, as the fewest ranges, lowest first."""
    out: list[tuple[int, int]] = []
    for low, high in sorted(spans):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out
