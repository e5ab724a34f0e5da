"""Rate budgets per identity and per IP, on slowapi's limiter (memory:// by default, Redis for several controllers)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from slowapi import Limiter
from slowapi.util import get_remote_address

from kitgate.controller.settings import Settings

BUCKETS = ("submit", "read", "worker", "admin", "anon", "ip", "signin")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0
    bucket: str = ""


class RateLimits:
    """submit/read/worker/admin per identity; anon per client IP (no valid credential); ip: optional ceiling per
    client IP over every authenticated call, so many identities behind one address cannot multiply their budgets.
    Keys are namespaced by `rate_key_prefix`, so several kitgate deployments can share one Redis."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        self._slowapi = Limiter(key_func=get_remote_address, storage_uri=settings.rate_storage,
                                strategy="moving-window", enabled=self.enabled)
        self._strategy = self._slowapi.limiter
        self._prefix = settings.rate_key_prefix
        self._buckets: dict[str, list[RateLimitItem]] = {
            "submit": parse_many(settings.rate_submit),
            "read": parse_many(settings.rate_read),
            "worker": parse_many(settings.rate_worker),
            "admin": parse_many(settings.rate_read),
            "anon": parse_many(settings.rate_anon),
            "ip": parse_many(settings.rate_ip) if settings.rate_ip else [],
            "signin": parse_many(settings.console_rate_signin),  # the console's sign-in form, per client IP
        }

    def hit(self, bucket: str, key: str) -> Verdict:
        if not self.enabled:
            return Verdict(True)
        for item in self._buckets[bucket]:
            if not self._strategy.hit(item, self._prefix, bucket, key):
                reset, _remaining = self._strategy.get_window_stats(item, self._prefix, bucket, key)
                return Verdict(False, max(1, math.ceil(reset - time.time())), bucket)
        return Verdict(True)

    def hit_identity(self, bucket: str, sub: str, ip: str | None) -> Verdict:
        """The endpoint's budget for this identity, then the per-IP ceiling (when configured)."""
        verdict = self.hit(bucket, sub)
        if verdict.allowed and self._buckets["ip"] and ip:
            verdict = self.hit("ip", ip)
        return verdict
