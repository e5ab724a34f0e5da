"""Prometheus metrics in a per-app registry (no global state, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kitgate.controller.store import JobStore
from kitgate.protocol import JobStatus

_STATUSES = tuple(s.value for s in JobStatus)
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class _StoreCollector(Collector):
    """Reads job counts from the store at scrape time, so the numbers are right after a restart too."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    def describe(self):  # type: ignore[no-untyped-def]
        """Names only: lets the registry check for clashes without touching the store."""
        yield GaugeMetricFamily("kitgate_jobs", "Jobs in the store by status", labels=["status"])
        yield GaugeMetricFamily("kitgate_queue_depth", "Jobs queued and waiting for a worker")

    def collect(self):  # type: ignore[no-untyped-def]
        counts = self.store.counts()
        jobs = GaugeMetricFamily("kitgate_jobs", "Jobs in the store by status", labels=["status"])
        for status in _STATUSES:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs
        yield GaugeMetricFamily(
            "kitgate_queue_depth", "Jobs queued and waiting for a worker", value=counts.get("queued", 0)
        )


class Metrics:
    def __init__(self, store: JobStore) -> None:
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
        self.registry.register(_StoreCollector(store))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
