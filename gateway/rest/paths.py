"""Path parameters that may hold any character, '/' included: queue names such as `emails/high`.

The server decodes the path before routing (`scope["path"]`), so `/queues/emails%2Fhigh/jobs`
reaches the router as `/queues/emails/high/jobs`: no route matches, or worse, the queue `x/jobs`
(`/queues/x%2Fjobs`) reads as the jobs page of queue `x`. Routes of this class match on the path as
the client sent it (`scope["raw_path"]`), split into segments first and each segment decoded on
its own, so an encoded '/' stays inside its parameter. uvicorn and Starlette's TestClient decode
`scope["path"]` differently (TestClient twice); `raw_path` is the same in both.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope


class EncodedSlashRoute(APIRoute):
    """An APIRoute whose path parameters are decoded per segment, after routing."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raw_path = scope.get("raw_path")
        if not raw_path or b"%" not in raw_path:  # nothing encoded: the decoded path is exact
            return super().matches(scope)
        match, child_scope = super().matches({**scope, "path": _segment_escaped(raw_path)})
        if match is not Match.NONE:
            params: dict[str, Any] = child_scope["path_params"]
            for name in self.param_convertors:
                params[name] = unquote(params[name])
        return match, child_scope


def _segment_escaped(raw_path: bytes) -> str:
    """The decoded path, except that each segment's own '%' and '/' stay escaped (as `unquote`
    then reverses exactly). Decoded as uvicorn decodes: UTF-8, invalid bytes as U+FFFD."""
    segments = raw_path.decode("latin-1").split("/")
    return "/".join(unquote(segment).replace("%", "%25").replace("/", "%2F") for segment in segments)
