"""The gateway exactly as `rq-gateway serve` builds it, minus the metrics middleware
(gateway/request_metrics.py): the baseline that shows what counting and timing every request costs
(BENCHMARKS.md, "Metrics middleware"). Never shipped; bench.metrics_row starts it:

    REDIS_URL=redis://127.0.0.1:6379/0 python -m uvicorn bench.unmetered_app:app --factory --port 8002
"""

from __future__ import annotations

from fastapi import FastAPI

from gateway.app import create_app
from gateway.cli import configure_process, settle_heap
from gateway.config import Settings
from gateway.request_metrics import RequestMetrics


def app() -> FastAPI:
    settings = Settings()
    configure_process(settings.log_level)  # the CLI's GIL switch interval, as the gateway runs
    application = create_app(settings)
    application.user_middleware = [m for m in application.user_middleware if m.cls is not RequestMetrics]
    assert len(application.user_middleware) >= 1, "the other middleware stays"
    return settle_heap(application)
