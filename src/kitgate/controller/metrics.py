"""Prometheus metrics in a per-app registry (no global state, so several apps can live in one process).

Why job counts are refreshed before a scrape rather than read by the collector: the store is async (it may
be PostgreSQL across the network) and prometheus_client collects synchronously, so /metrics awaits
`Metrics.refresh_counts()` first and the collector reports those counts.
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from kitgate.controller.backend import JobStoreApi
from kitgate.controller.security.ratelimit import RateLimits
from kitgate.protocol import JobStatus

_STATUSES = tuple(s.value for s in JobStatus)
_STALE_HELP = "1 when the last read of the job counts failed (the database did not answer): kitgate_jobs are older"
_COUNTS_TIMEOUT_S = 5.0  # a scrape answers within this even when the database hangs
log = logging.getLogger("kitgate.metrics")
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class _StoreCollector(Collector):
    """Job counts by status as last read from the store (`Metrics.refresh_counts`, awaited by /metrics before
    it renders), so the numbers come from the store, right after a restart too, and agree across replicas."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.stale = False  # the last refresh failed: `counts` are the last ones read

    def describe(self):  # type: ignore[no-untyped-def]
        """Names only: lets the registry check for clashes without touching the store."""
        yield GaugeMetricFamily("kitgate_jobs", "Jobs in the store by status", labels=["status"])
        yield GaugeMetricFamily("kitgate_queue_depth", "Jobs queued and waiting for a worker")
        yield GaugeMetricFamily("kitgate_job_counts_stale", _STALE_HELP)

    def collect(self):  # type: ignore[no-untyped-def]
        counts = self.counts
        jobs = GaugeMetricFamily("kitgate_jobs", "Jobs in the store by status", labels=["status"])
        for status in _STATUSES:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs
        yield GaugeMetricFamily(
            "kitgate_queue_depth", "Jobs queued and waiting for a worker", value=counts.get("queued", 0)
        )
        yield GaugeMetricFamily("kitgate_job_counts_stale", _STALE_HELP, value=1 if self.stale else 0)


class _RateLimitCollector(Collector):
    """Whether rate limits fell back from Redis to this replica's memory, read from RateLimits at scrape time."""

    def __init__(self, rates: RateLimits) -> None:
        self.rates = rates

    def collect(self):  # type: ignore[no-untyped-def]
        yield CounterMetricFamily("kitgate_ratelimit_fallback", "Rate checks answered from this replica's "
                                  "memory because Redis failed or was skipped after a failure",
                                  value=self.rates.fallbacks)
        yield GaugeMetricFamily("kitgate_ratelimit_degraded", "1 while Redis rate limits have fallen back to "
                                "per-replica memory", value=1 if self.rates.degraded else 0)


class Metrics:
    def __init__(self, store: JobStoreApi) -> None:
        self.store = store
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "kitgate_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "kitgate_http_request_duration_seconds",
            "HTTP request duration",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.submitted = Counter("kitgate_jobs_submitted", "Jobs accepted", ["policy"], registry=r)
        self.violations = Counter(
            "kitgate_policy_violations", "Submissions refused by the compiler", ["policy"], registry=r
        )
        self.finished = Counter("kitgate_jobs_finished", "Jobs reaching a terminal state", ["status"], registry=r)
        self.claim_wait = Histogram(
            "kitgate_claim_wait_seconds",
            "Time a job spent queued before a worker claimed it",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.e2e_latency = Histogram(
            "kitgate_job_latency_seconds", "Submit to result stored (end-to-end)", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.claim_polls = Counter("kitgate_claims", "Claim requests by outcome", ["outcome"], registry=r)
        self._store_counts = _StoreCollector()
        self.registry.register(self._store_counts)

    def watch_rate_limits(self, rates: RateLimits) -> None:
        """kitgate_ratelimit_fallback_total and kitgate_ratelimit_degraded, from `rates` at scrape time."""
        self.registry.register(_RateLimitCollector(rates))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    async def refresh_counts(self) -> None:
        """Read the job counts the next `render` reports (one GROUP BY on the jobs table). While the database
        does not answer, a scrape still answers: the last counts, with kitgate_job_counts_stale 1 (an alert
        can key on it; /readyz says the same to the load balancer)."""
        try:
            counts = await asyncio.wait_for(self.store.counts(), _COUNTS_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - sqlite3, psycopg and pool errors alike: never a 500 from a scrape
            log.warning("job counts unavailable for /metrics", extra={"fields": {"error": type(exc).__name__}})
            self._store_counts.stale = True
            return
        self._store_counts.counts = counts
        self._store_counts.stale = False

    def render(self) -> bytes:
        return generate_latest(self.registry)
