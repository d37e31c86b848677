"""One read call, with its failure recorded on the resource instead of raised, and throttling
outlasted instead of recorded."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from cloudscan.model import mark_unknown

T = TypeVar("T")
ABSENT = object()  # the call answered "not configured", which is a value, not a failure
FAILED = object()

# What AWS answers a caller that asks too fast (botocore's adaptive retries slow down on them).
THROTTLING = frozenset(
    (
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "EC2ThrottledException",
        "BandwidthLimitExceeded",
    )
)
# botocore stops retrying when its attempts or its client-wide retry quota run out, which a
# long throttled scan can drain: a call still throttled then pauses and is sent again, this many
# times, so that throttling slows the scan down instead of turning into errors and UNKNOWN.
THROTTLED_ROUNDS = 3
THROTTLED_PAUSE = 2.0  # seconds, doubled each round, with jitter


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
        return persist(fn, **kwargs)
    except (ClientError, BotoCoreError) as exc:
        code, message = error_of(exc)
        if code in absent:
            return ABSENT
        mark_unknown(doc, pointers, call=call, code=code, message=message)
        return FAILED


def persist(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """fn(*args, **kwargs) (one call, or a whole listing), sent again after a pause for as long as
    AWS throttles it past botocore's own retries, THROTTLED_ROUNDS times at most."""
    for round_ in range(THROTTLED_ROUNDS):
        try:
            return fn(*args, **kwargs)
        except ClientError as exc:
            if not throttled(exc):
                raise
            time.sleep(THROTTLED_PAUSE * 2**round_ * (0.5 + random.random() / 2))
    return fn(*args, **kwargs)


def throttled(exc: Exception) -> bool:
    """Whether AWS refused the request for its rate (an error code, or HTTP 429 or 503)."""
    if not isinstance(exc, ClientError):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_of(exc)[0] in THROTTLING or status in (429, 503)
