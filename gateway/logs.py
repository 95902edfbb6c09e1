"""Logging for both processes and tools: `--log-format text` (the default, for people) or `json`,
one JSON object per line for log shippers (Loki, Elasticsearch, CloudWatch).

In JSON every line, uvicorn's access log included, carries the request's id (the one echoed in
`X-Request-ID`) and the name of the API key that made it, so an access line, the application
lines and the audit record of one request can be joined. Both are held in a context variable
that the request-id middleware binds per request; the key is filled in once the key is read.
Context variables follow the request into the threadpool (anyio copies the context), and
uvicorn writes the access line from inside the request's own task, when the response starts."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Literal, get_args

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[str, ...] = get_args(LogFormat)
NO_REQUEST = "-"

# A dict, not two variables: the key is read in a dependency whose context changes may not
# reach the middleware's, but a change to the shared dict does.
_request: ContextVar[dict[str, str] | None] = ContextVar("log_request", default=None)


def bind_request(request_id: str) -> None:
    """Called once per HTTP request, before the app runs."""
    _request.set({"request_id": request_id, "key": NO_REQUEST})


def note_key(name: str) -> None:
    """The API key's name (or "anonymous") once the request's key has been read."""
    bound = _request.get()
    if bound is not None:
        bound["key"] = name


# uvicorn's access line: '%s - "%s %s HTTP/%s" %d' with these arguments.
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, request_id, key; the access
    log's fields by name; the traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        bound = _request.get() or {}
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": bound.get("request_id", NO_REQUEST),
            "key": bound.get("key", NO_REQUEST),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            line.update(zip(_ACCESS_FIELDS, record.args, strict=False))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def uvicorn_log_config(level: str, log_format: str) -> dict[str, Any] | None:
    """The `log_config` for uvicorn.run: None keeps uvicorn's own (text) configuration; for JSON,
    uvicorn's loggers and the root logger (the gateway's own) all write through JsonFormatter.
    uvicorn applies it in every worker process too."""
    if log_format != "json":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "gateway.logs.JsonFormatter"}},
        "handlers": {"json": handler},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["json"], "level": level.upper()},
    }


def configure_logging(level: str, log_format: str) -> None:
    """The gateway's own loggers, before uvicorn starts (and in each worker process)."""
    if log_format == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level.upper(), format="%(levelname)s:     %(message)s")
