"""The gateway's HTTP metrics: rq_gateway_http_requests_total{method,route,status} and the
rq_gateway_http_request_duration_seconds{method,route} histogram, from a pure ASGI middleware.

`route` is the template of the route that answered (`/api/v1/jobs/{job_id}`), never the raw path,
so a scan of a million job ids adds no series; a path no route matches is `unmatched`. `method`
is one of the standard methods or `other`. The middleware sits outside every other one, so 413s
and CORS answers are counted too. Under `--workers N` the metrics live in prometheus-client's
multiprocess files (the CLI manages PROMETHEUS_MULTIPROC_DIR), and a scrape sums them."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "rq_gateway_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "rq_gateway_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
)
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope, outer_root_path: str = "") -> str:
    """The template of the route that answered, read from the scope the router updated in place
    (`outer_root_path`: the scope's root_path before routing). FastAPI's own routes carry it
    whole. A mount (the static files) is its prefix and `/{path}`. A route from a router
    included with a prefix (GraphQL) or a plain Starlette route is rebuilt from the path, each path
    parameter's name put back in place of its value at the end of the path; anything else is
    `other`. So the label stays bounded whatever the path."""
    if "endpoint" not in scope:
        return UNMATCHED  # no route matched (404), or answered before routing (413)
    template = getattr(scope.get("route"), "path_format", "")
    if template.startswith("/"):
        return template
    mount = scope.get("root_path", "")[len(outer_root_path) :]
    if mount:
        # Starlette's mount pattern ends in `$`, which also matches before a final newline: for
        # `/static/a%0A` it sets root_path to `/static/`, one character off.
        return mount.rstrip("/") + "/{path}"
    path: str = scope["path"]
    for name, value in (scope.get("path_params") or {}).items():
        value = str(value)
        if not value or not path.endswith("/" + value):
            return "other"
        path = path[: -len(value)] + "{" + name + "}"
    return path


class RequestMetrics:
    """Counts and times every HTTP request. The labelled children are looked up once per
    (method, route, status) and kept: the lookup takes a lock and is most of the cost."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        status = 500  # what the server answers when the app raises before it starts a response

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            self._observe(scope, root_path, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, root_path: str, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "other"
        route = route_template(scope, root_path)
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                HTTP_REQUESTS.labels(method=method, route=route, status=str(status)),
                HTTP_DURATION.labels(method=method, route=route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
