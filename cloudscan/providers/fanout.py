"""How a live adapter reads many accounts (projects, subscriptions) at once: each unit's
listings run side by side on one pool, and queue the reads of single resources on the same
pool without waiting for them (a pool thread that waited on the pool could wait on itself);
the caller's thread collects the results. A failure of one resource is that resource's error,
not the end of the scan."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from cloudscan.model import CredentialsRefused, Document, scan_error

ErrorOf = Callable[[Exception], tuple[str, str]]
Unit = TypeVar("Unit")


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


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def stream_in_order(
    units: Sequence[Unit], read_unit: Callable[[Unit], Iterator[Document]], workers: int, name: str
) -> Iterator[Document]:
    """Documents of every unit, `workers` units read at a time, each unit with its own pool
    inside (a whole account: its threads are not this pool's). The first unfinished unit's
    documents come as they are read; the others' wait for their turn, so the order is the
    units' whoever finishes first, and a scan reads the same in every run. An exception that
    `read_unit` lets out (credentials refused for every unit) ends the whole stream."""
    stop = threading.Event()
    outs: list[queue.SimpleQueue[Any]] = [queue.SimpleQueue() for _ in units]

    def run(out: queue.SimpleQueue[Any], unit: Unit) -> None:
        stream: Iterator[Document] | None = None
        try:
            stream = read_unit(unit)
            for doc in stream:
                if stop.is_set():
                    break
                out.put(doc)
        except BaseException as exc:
            out.put(_Raised(exc))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # a generator stopped early shuts its own pool down now, not when collected
            out.put(_END)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    try:
        for out, unit in zip(outs, units, strict=True):
            pool.submit(run, out, unit)
        for out in outs:
            while (item := out.get()) is not _END:
                if isinstance(item, _Raised):
                    raise item.exc
                yield item
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
