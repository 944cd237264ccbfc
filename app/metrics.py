"""Prometheus metrics for a dashboard: ``GET /metrics`` (scope ``admin``).

Two kinds:

- counted by the serving process as it works: HTTP requests by route, method and
  status with their latency, collected events by outcome (accepted, rejected,
  duplicate), and real-time profile updates: how many ran, how many requests they
  served (group commit, :mod:`app.realtime`) and how long each took. With
  ``PROMETHEUS_MULTIPROC_DIR`` set (several server processes, as prometheus-client
  documents), every process writes its counts there and a scrape adds them up.
- read from the graph and Redis when scraped: identifiers, events, profiles, the
  profile-size distribution, quarantine size, the last resolve and train runs, the
  job queue's depth and failures. Reading costs two aggregations over profiles
  (about 50 ms at 100k profiles); a store that does not answer makes
  ``idgraph_store_up`` 0 instead of failing the scrape.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from app.resources import Resources
from graph.errors import IdgraphError

__all__ = ["Metrics", "install"]

logger = logging.getLogger(__name__)

#: profile-size buckets (members): singletons, households, the giant cluster
SIZE_BUCKETS = (1, 2, 3, 5, 10, 20, 50, 100, 1000)
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    """The process's counters and the collector that reads the graph at scrape time."""

    def __init__(self, resources: Resources) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        # multiprocess: the values live in files the MultiProcessCollector adds up, so the
        # counters must not also be registered where they are scraped
        counted = CollectorRegistry() if shared else self.registry
        self.requests = Counter(
            "idgraph_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=counted,
        )
        self.latency = Histogram(
            "idgraph_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=counted,
        )
        self.events = Counter(
            "idgraph_collected_events_total",
            "Events received by the collection API (/v1/events and the Segment calls), "
            "by outcome: accepted, duplicate or rejected.",
            ["outcome"],
            registry=counted,
        )
        self.updates = Counter(
            "idgraph_realtime_updates_total",
            "Real-time profile updates run; one serves the requests of its process that "
            "were waiting when it started (group commit).",
            registry=counted,
        )
        self.update_requests = Counter(
            "idgraph_realtime_update_requests_total",
            "Requests whose profiles the real-time updates refreshed (over "
            "idgraph_realtime_updates_total: requests per update).",
            registry=counted,
        )
        self.update_seconds = Histogram(
            "idgraph_realtime_update_seconds",
            "Time of one real-time update, waiting for the resolution lock included.",
            buckets=LATENCY_BUCKETS,
            registry=counted,
        )
        if shared:
            multiprocess.MultiProcessCollector(self.registry, path=shared)
        self.registry.register(GraphCollector(resources))
        resources.update_queue.observers["metrics"] = self.count_update

    def count_request(self, route: str, method: str, status: int, seconds: float | None) -> None:
        """One answered request (``route``: its template, never the raw path)."""
        self.requests.labels(route, method, str(status)).inc()
        if seconds is not None:
            self.latency.labels(route, method).observe(seconds)

    def count_events(self, answer: dict[str, Any]) -> None:
        for outcome in ("accepted", "duplicates", "rejected"):
            n = int(answer.get(outcome) or 0)
            if n:
                self.events.labels(outcome.removesuffix("s")).inc(n)

    def count_update(self, requests: int, seconds: float) -> None:
        """One real-time update that served ``requests`` requests."""
        self.updates.inc()
        self.update_requests.inc(requests)
        self.update_seconds.observe(seconds)

    def scrape(self) -> Response:
        return Response(generate_latest(self.registry), mimetype=CONTENT_TYPE_LATEST)


class GraphCollector(Collector):
    """Gauges read from the store and Redis when Prometheus scrapes."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    def describe(self) -> Iterator[Any]:
        return iter(())  # read at scrape time: nothing to describe up front

    def collect(self) -> Iterator[Any]:
        res = self.resources
        up = GaugeMetricFamily("idgraph_store_up", "1 when the graph store answered the scrape.")
        try:
            yield from self._graph(res)
            up.add_metric([], 1)
        except IdgraphError as e:
            logger.warning("metrics: the store did not answer: %s", e)
            up.add_metric([], 0)
        yield up
        yield from self._jobs(res)

    def _graph(self, res: Resources) -> Iterator[Any]:
        store = res.store
        counts = store.stats()
        nodes = GaugeMetricFamily("idgraph_nodes", "Nodes in the graph by label.", labels=["label"])
        for label in ("Identifier", "Event", "Profile"):
            nodes.add_metric([label], counts.get(label, 0))
        sizes = store.profile_sizes()
        profiles = GaugeMetricFamily("idgraph_profiles", "Active profiles.")
        profiles.add_metric([], sum(sizes.values()))
        buckets, running = [], 0
        for bound in SIZE_BUCKETS:
            running = sum(n for size, n in sizes.items() if size <= bound)
            buckets.append((str(float(bound)), running))
        buckets.append(("+Inf", sum(sizes.values())))
        histogram = HistogramMetricFamily(
            "idgraph_profile_size", "Active profiles by number of member identifiers."
        )
        histogram.add_metric([], buckets, sum_value=sum(s * n for s, n in sizes.items()))
        largest = GaugeMetricFamily("idgraph_largest_profile", "Members of the largest profile.")
        largest.add_metric([], max(sizes, default=0))
        quarantine = GaugeMetricFamily(
            "idgraph_quarantined_identifiers", "Identifiers in quarantine."
        )
        quarantine.add_metric([], store.count_quarantined())
        yield from (nodes, profiles, histogram, largest, quarantine)
        health = store.meta("health") or {}
        alarm = GaugeMetricFamily(
            "idgraph_health_alarm",
            "1 when the last full resolve raised this graph-health alarm (giant_profile, "
            "distribution_shift, quarantine_growth).",
            labels=["kind"],
        )
        raised = {a["kind"] for a in health.get("alarms", [])}
        for kind in ("giant_profile", "distribution_shift", "quarantine_growth"):
            alarm.add_metric([kind], 1 if kind in raised else 0)
        yield alarm
        for kind in ("resolve", "train"):
            run = store.meta(f"last_{kind}") or {}
            seconds = GaugeMetricFamily(
                f"idgraph_last_{kind}_seconds", f"How long the last `idgraph {kind}` took."
            )
            finished = GaugeMetricFamily(
                f"idgraph_last_{kind}_timestamp_seconds",
                f"When the last `idgraph {kind}` finished (Unix time).",
            )
            ok = GaugeMetricFamily(
                f"idgraph_last_{kind}_success", f"1 when the last `idgraph {kind}` succeeded."
            )
            if run:
                seconds.add_metric([], float(run.get("seconds") or 0))
                finished.add_metric([], float(run.get("finished_at") or 0) / 1000)
                ok.add_metric([], 1 if run.get("ok") else 0)
            yield from (seconds, finished, ok)

    def _jobs(self, res: Resources) -> Iterator[Any]:
        from redis.exceptions import RedisError
        from rq import Queue

        from app.jobs import QUEUE_NAME

        depth = GaugeMetricFamily("idgraph_jobs_queued", "Jobs waiting in the queue.")
        failed = GaugeMetricFamily("idgraph_jobs_failed", "Jobs in the failed registry.")
        started = GaugeMetricFamily("idgraph_jobs_started", "Jobs running now.")
        try:
            queue = Queue(QUEUE_NAME, connection=res.redis)
            depth.add_metric([], queue.count)
            failed.add_metric([], queue.failed_job_registry.count)
            started.add_metric([], queue.started_job_registry.count)
        except RedisError as e:
            logger.warning("metrics: Redis did not answer: %s", e)
            return
        yield from (depth, failed, started)


def install(app: Flask, metrics: Metrics) -> None:
    """Count every request (route template, not the raw path: no personal data in
    labels) and its latency."""
    app.extensions["idgraph_metrics"] = metrics

    @app.before_request
    def _started() -> None:
        g.idgraph_started = time.perf_counter()

    @app.after_request
    def _counted(response: Response) -> Response:
        started = g.get("idgraph_started")
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        seconds = None if started is None else time.perf_counter() - started
        metrics.count_request(route, request.method, response.status_code, seconds)
        return response
