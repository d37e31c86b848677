"""Reading files that others control: only regular files, each with a bound.

A pull request can add a symlink to /dev/zero or a FIFO named `x.tf`; a mute or inventory file
can be anything. Every file cloudscan reads goes through `read_bounded`, which refuses what is
not a regular file (without blocking on it) and what is larger than its limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DEFAULT_LIMIT = 5 * 1024 * 1024


class InputError(Exception):
    """A file that cannot be used; the message names why, and the caller names the file."""


def check_readable(path: Path, limit: int = DEFAULT_LIMIT) -> None:
    """Raise InputError unless `path` is a regular file of at most `limit` bytes (read nothing)."""
    _read(path, limit, read=False)


def read_bounded(path: Path, limit: int = DEFAULT_LIMIT) -> bytes:
    return _read(path, limit, read=True)


def _read(path: Path, limit: int, *, read: bool) -> bytes:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the check below refuses it.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError("no such file") from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"not a regular file ({_kind(info.st_mode)}): not read")
        if info.st_size > limit:
            raise InputError(f"skipped: {info.st_size} bytes is more than {limit}")
        if not read:
            return b""
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # it grew while being read
            raise InputError(f"skipped: more than {limit} bytes")
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(descriptor)


def read_text(path: Path, limit: int = DEFAULT_LIMIT) -> str:
    """A bounded UTF-8 text file (a byte-order mark is dropped)."""
    data = read_bounded(path, limit)
    if b"\0" in data:
        raise InputError("skipped: a binary file")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})") from None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"
