"""Headless Chromium (the Debian package `chromium`) for the tests of the HTML report.

    page = load(report.as_uri() + "#severity=critical")
    page.dom        # the DOM once the page's script ran (--dump-dom)
    page.console    # every message the page wrote to its console, errors and CSP violations included

Each load is a fresh browser with a profile of its own in a temporary directory. Console messages
are read from Chromium's own log (`--enable-logging=stderr --v=0`), where each is a line
`...:CONSOLE:12] "message", source: file:///... (12)`: an uncaught exception, a console.error and
a refused fetch or inline script (a Content-Security-Policy violation) all land there. The log
does not say which level a message had; the report's script writes nothing to the console, so a
test fails on any message at all.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\] (.*)$")


class ChromiumNotFound(RuntimeError):
    """No `chromium` on PATH (apt-get install chromium)."""


@dataclass(frozen=True)
class Page:
    dom: str
    console: list[str]


def chromium_executable() -> str | None:
    """`$CHROMIUM` if set, else the `chromium` (or `chromium-browser`) on PATH."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """The executable, or a skip for a developer without it; under CI=true its absence is a failure."""
    exe = chromium_executable()
    if exe:
        return exe
    message = "chromium is not on PATH (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + ": CI must run the browser tests of the HTML report")
    pytest.skip(message)


def load(url: str, *, budget_ms: int = 5000, timeout: float = 90) -> Page:
    """The DOM of `url` after its script ran, and its console messages."""
    out, err = _run(
        ["--enable-logging=stderr", "--v=0", f"--virtual-time-budget={budget_ms}", "--dump-dom", url], timeout
    )
    console = [m.group(1) for line in err.splitlines() if (m := _CONSOLE.search(line))]
    return Page(dom=out, console=console)


def screenshot(url: str, path: Path, *, width: int = 1280, height: int = 1600, timeout: float = 90) -> None:
    """A PNG of the top `height` pixels of `url` at `width`, written to `path`."""
    _run([f"--window-size={width},{height}", "--hide-scrollbars", f"--screenshot={path}", url], timeout)
    if not path.exists():
        raise RuntimeError(f"chromium wrote no screenshot to {path}")


def _run(args: list[str], timeout: float) -> tuple[str, str]:
    exe = chromium_executable()
    if not exe:
        raise ChromiumNotFound("chromium is not on PATH (apt-get install chromium)")
    # Chromium's sandbox refuses to start as root; a container's root needs --no-sandbox.
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [
            exe,
            "--headless",
            "--disable-gpu",
            *sandbox,
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            *args,
        ]
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=profile,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # our own session: the browser and its helpers
            proc.communicate()
            raise
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        if proc.returncode != 0:
            raise RuntimeError(f"chromium exited with {proc.returncode}: {err[-2000:]}")
    return out, err
