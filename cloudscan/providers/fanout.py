"""How a live adapter reads many accounts (projects, subscriptions) at once: each unit's
listings run side by side on one pool, and queue the reads of single resources on the same
pool without waiting for them (a pool thread that waited on the pool could wait on itself);
the caller's thread collects the results. A failure of one resource is that resource's error,
not the end of the scan."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from cloudscan.model import CredentialsRefused, Document, scan_error

ErrorOf = Callable[[Exception], tuple[str, str]]


def fan_out(
    pool: ThreadPoolExecutor, units: Iterable[str], list_unit: Callable[[str], list[Any]]
) -> Iterator[Document]:
    """Documents of every unit: `list_unit` gives documents, or futures of document lists."""
    try:
        listed = [pool.submit(list_unit, unit) for unit in units]
        for future in listed:
            for item in future.result():
                yield from item.result() if isinstance(item, Future) else [item]
    finally:
        # Credentials refused: what is still queued would fail as well.
        pool.shutdown(wait=True, cancel_futures=True)


def read_safely(
    errors: list[dict[str, Any]], what: str, read: Callable[[], list[Document]], error_of: ErrorOf
) -> list[Document]:
    """`read()`, or nothing with the failure recorded as `what`'s error."""
    try:
        return read()
    except CredentialsRefused:
        raise
    except Exception as exc:
        code, message = error_of(exc)
        errors.append(scan_error("cloudscan:read", code, f"could not read {what}: {message}", what))
        return []
