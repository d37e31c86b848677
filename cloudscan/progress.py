"""Progress of a long scan on stderr, when stderr is a terminal: resources read, requests sent
(where the cloud's SDK tells: AWS, Azure), errors so far, time elapsed, on one line rewritten in
place. Nothing when stderr is a file or a pipe (CI logs, a SIEM collector) or with --quiet. The
scan counts (scan.run); a thread draws."""

from __future__ import annotations

import itertools
import threading
import time
from contextvars import ContextVar
from typing import Any, TextIO

INTERVAL = 0.5  # seconds between redraws


class Progress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.resources = 0
        self.errors: list[Any] = []
        self._calls = itertools.count()
        self.calls = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def seen(self, kind: str) -> None:
        self.resources += 1

    def call(self, **_: Any) -> None:
        """One request sent (the SDKs' hooks call it from their threads)."""
        self.calls = next(self._calls) + 1

    def line(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        errors = len(self.errors)
        calls = f"{self.calls} calls, " if self.calls else ""
        said = f"{errors} error{'' if errors == 1 else 's'}"
        clock = f"{elapsed // 60}:{elapsed % 60:02d}"
        return f"cloudscan: scanning: {self.resources} resources, {calls}{said}, {clock}"

    def _draw(self) -> None:
        while True:
            self.stream.write("\r" + self.line() + "\x1b[K")
            self.stream.flush()
            if self._stop.wait(INTERVAL):
                return

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._draw, name="cloudscan-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop drawing and clear the line (nothing when it never started)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        # The final tally, then the summary line takes its place.
        self.stream.write("\r" + self.line() + "\x1b[K\r\x1b[K")
        self.stream.flush()


# The progress of the scan running in this context, if it is shown (see cli.output).
CURRENT: ContextVar[Progress | None] = ContextVar("cloudscan_progress", default=None)


def shown(stream: TextIO, quiet: bool) -> bool:
    """Whether progress goes to `stream`: a terminal, and not --quiet."""
    return not quiet and hasattr(stream, "isatty") and stream.isatty()
