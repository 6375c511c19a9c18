"""Prometheus metrics: request latency by route, and figures of the book read at scrape
time (line decisions by action, close-of-business progress), so every server process
reports the same book. Each app has its own registry.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from limitwise.businessdate import service as business_dates
from limitwise.kit.db import unit_of_work
from limitwise.lines import service as lines
from limitwise.servicing import service as servicing

#: Latency buckets in seconds: the API's target is a p99 under 20 ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class BookCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        with unit_of_work(self.engine) as session:
            counts = lines.decision_counts(session)
            dates = business_dates.book_dates(session)
            behind = servicing.accounts_behind(
                session, as_of=dates.business_date - dt.timedelta(days=1)
            )
            failures = servicing.cob_failures(session)
        decisions = CounterMetricFamily(
            "limitwise_line_decisions", "Line decisions recorded, by action", labels=["action"]
        )
        for action, count in sorted(counts.items()):
            decisions.add_metric([action], count)
        yield decisions
        yield GaugeMetricFamily(
            "limitwise_cob_accounts_behind",
            "Accounts whose days before the business date are not all closed",
            value=len(behind),
        )
        yield GaugeMetricFamily(
            "limitwise_cob_failures", "Accounts close of business could not close", len(failures)
        )
        closed = dates.cob_closed_through
        yield GaugeMetricFamily(
            "limitwise_cob_days_behind",
            "Days between the last closed day and the business date",
            value=(dates.business_date - closed).days - 1 if closed else 0,
        )


def registry_for(engine: Engine) -> tuple[CollectorRegistry, Histogram]:
    registry = CollectorRegistry()
    latency = Histogram(
        "limitwise_http_request_duration_seconds",
        "Time to answer a request, by method, route and status",
        ["method", "route", "status"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    registry.register(BookCollector(engine))
    return registry, latency


class RequestTimer:
    """Observe every request's latency under its route template (``/v1/accounts/{ref}``)."""

    def __init__(self, app: ASGIApp, latency: Histogram) -> None:
        self.app = app
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = scope.get("route")
            path = route.path if isinstance(route, BaseRoute) and hasattr(route, "path") else ""
            self.latency.labels(scope["method"], path or "unmatched", str(status)).observe(
                time.perf_counter() - started
            )
