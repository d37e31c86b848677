"""How fast a live scan may ask: at most `max_rate` requests a second to each service, apart from
how many run at once (--concurrency), and how often a throttled or failed request is tried.

Each cloud's clients apply it through their SDK's own hooks (botocore's before-send event, the
request hook of azure-core, the HTTP transport of the Google clients), so every request that
leaves counts, retries included, whichever thread sends it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_ATTEMPTS = 8  # a request and seven retries: throttling backs off instead of failing


class RateLimiter:
    """A token bucket shared by threads: `rate` tokens a second, at most `burst` saved up.
    A thread that finds the bucket empty reserves the next token and sleeps until it is due,
    outside the lock, so waiting threads are served in turn."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate, self.burst = rate, burst
        self._clock, self._sleep = clock, sleep
        self._tokens = burst
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting for it; the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1  # below zero: reserved, due when the bucket refills to zero
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


@dataclass(eq=False)
class Pacing:
    """`max_rate`: requests a second to each service (None: no limit); `max_attempts`: tries of
    one request, the first included, before its failure is recorded. One Pacing is shared by
    every client of a scan: it holds the limiters."""

    max_rate: float | None = None
    max_attempts: int = DEFAULT_ATTEMPTS
    _limiters: dict[str, RateLimiter] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_rate is not None and self.max_rate <= 0:
            raise ValueError("max_rate must be above 0")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def wait(self, service: str) -> None:
        """Before a request to `service` leaves: wait for its turn (at once without a limit)."""
        if self.max_rate is None:
            return
        with self._lock:
            limiter = self._limiters.get(service)
            if limiter is None:
                limiter = self._limiters[service] = RateLimiter(self.max_rate)
        limiter.acquire()
