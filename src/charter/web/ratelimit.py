"""A small in-process token bucket per client address and bucket name.

Good for one server process; a deployment with many processes puts a
shared limiter (e.g. at the proxy) in front. Counts nothing personal: the
key is the client address as the socket reports it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    per_minute: int
    _buckets: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, bucket: str, client: str, cost: float = 1.0) -> bool:
        now = time.monotonic()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get((bucket, client), (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < cost:
                self._buckets[(bucket, client)] = (tokens, now)
                return False
            self._buckets[(bucket, client)] = (tokens - cost, now)
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            return True
