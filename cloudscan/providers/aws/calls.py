"""One read call, with its failure recorded on the resource instead of raised."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudscan.model import mark_unknown

ABSENT = object()  # the call answered "not configured", which is a value, not a failure
FAILED = object()


def error_of(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return str(err.get("Code") or "ClientError"), str(err.get("Message") or exc)
    return type(exc).__name__, str(exc)


def read(
    doc: dict[str, Any],
    call: str,
    pointers: list[str],
    fn: Callable[..., Any],
    absent: tuple[str, ...] = (),
    **kwargs: Any,
) -> Any:
    """fn(**kwargs); ABSENT for an error code in `absent`; FAILED (fields marked unknown) else."""
    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        code, message = error_of(exc)
        if code in absent:
            return ABSENT
        mark_unknown(doc, pointers, call=call, code=code, message=message)
        return FAILED
