"""For the load balancer and the operator: ``GET /healthz`` and Prometheus metrics at ``GET /metrics``.

/healthz answers 200 when this web process reaches the database (and, scaled
out, the broker), else 503 naming what is down, so a load balancer sends no
visitor to a process that could only fail. /metrics is read from the task
store at scrape time, so every web process reports the same totals.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import flask
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.registry import CollectorRegistry

from tasks.records import DONE
from tasks.runners.celery_app import broker_reachable
from tasks.service import current as service
from tasks.store.tables import tasks as task_table

blueprint = flask.Blueprint("operations", __name__)

# Seconds: from a digit already known (milliseconds) to 10^9 places (minutes).
BUCKETS = (0.01, 0.1, 1.0, 5.0, 30.0, 120.0, 600.0, 3600.0)


@blueprint.get("/healthz")
def healthz() -> tuple[flask.Response, int]:
    """200 if the database (and the broker, scaled out) answer; 503 with what is down."""
    checks: dict[str, str] = {}
    try:
        service().store.ping()
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure to reach it means "down"
        checks["database"] = f"down: {type(error).__name__}"
    celery = flask.current_app.extensions.get("celery")
    if celery is not None:
        checks["broker"] = "ok" if broker_reachable(celery) else "down"
    healthy = all(value == "ok" for value in checks.values())
    return flask.jsonify(status="ok" if healthy else "down", **checks), 200 if healthy else 503


@blueprint.get("/metrics")
def metrics() -> flask.Response:
    """Tasks by state, queue wait and run time histograms, live workers (Prometheus text format)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_TaskCollector())
    return flask.Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _TaskCollector(Collector):
    def collect(self) -> Iterator[Any]:
        store, runner = service().store, service().runner.describe()
        by_state = GaugeMetricFamily("pi_tasks", "Tasks in the store, by state.", labels=["state"])
        for state, count in store.counts_by_status().items():
            by_state.add_metric([state], count)
        yield by_state
        table = task_table.c
        spans = {
            "pi_task_queue_wait_seconds": (
                "Time from submission to start, of done tasks.",
                table.created_at,
                table.started_at,
            ),
            "pi_task_run_seconds": ("Time from start to finish, of done tasks.", table.started_at, table.finished_at),
        }
        done = store.count([DONE])
        for name, (help_text, start, end) in spans.items():
            counts, total = store.duration_buckets(start, end, BUCKETS)
            buckets = [(str(bound), count) for bound, count in zip(BUCKETS, counts, strict=True)] + [("+Inf", done)]
            yield HistogramMetricFamily(name, help_text, buckets=buckets, sum_value=total)
        yield GaugeMetricFamily("pi_workers", "Task slots of the live workers.", value=runner["workers"])
