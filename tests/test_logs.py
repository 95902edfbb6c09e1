"""--log-format json (gateway/logs.py): one JSON object per record, with the request id and the key
name of the request it was written in, uvicorn's access log included. End to end, through the
CLI-started gateway: tests/realredis/test_logs_real.py."""

from __future__ import annotations

import asyncio
import json
import logging
import logging.config

import pytest

from gateway import logs
from gateway.logs import JsonFormatter, bind_request, note_key, uvicorn_log_config


def _record(name: str, message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)


def test_a_record_is_one_json_object_with_the_requests_id_and_key():
    async def request() -> str:
        bind_request("req-1")
        note_key("ops-team")
        return JsonFormatter().format(_record("gateway", "hello %s", "world"))

    line = json.loads(asyncio.run(request()))
    assert line["message"] == "hello world"
    assert (line["request_id"], line["key"], line["level"], line["logger"]) == (
        "req-1",
        "ops-team",
        "info",
        "gateway",
    )
    assert line["time"].endswith("+00:00")


def test_outside_a_request_the_id_and_key_are_dashes():
    line = json.loads(asyncio.run(asyncio.to_thread(JsonFormatter().format, _record("gateway", "x"))))
    assert (line["request_id"], line["key"]) == ("-", "-")


def test_the_access_log_gets_its_fields_by_name():
    record = _record(
        "uvicorn.access", '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/metrics", "1.1", 200
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["method"] == "GET" and line["path"] == "/metrics" and line["status"] == 200
    assert line["client"] == "127.0.0.1:5"


def test_an_exception_is_one_line_of_json():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "gateway", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    text = JsonFormatter().format(record)
    assert "\n" not in text and "ValueError: boom" in json.loads(text)["exception"]


def test_a_key_noted_in_another_thread_reaches_the_requests_lines():
    """The key is read in a dependency; anyio runs sync code in a copied context."""

    async def request() -> str:
        bind_request("req-2")
        await asyncio.to_thread(note_key, "viewer")
        return JsonFormatter().format(_record("gateway", "x"))

    assert json.loads(asyncio.run(request()))["key"] == "viewer"


@pytest.fixture
def restored_logging():
    """dictConfig changes process-wide loggers: put back what it touches."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        name: (lg.handlers[:], lg.level, lg.propagate) for name in names if (lg := logging.getLogger(name))
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


@pytest.mark.parametrize("level", ["warning", "debug"])
def test_uvicorn_config_sends_every_logger_through_the_formatter(level, restored_logging):
    config = uvicorn_log_config(level, "json")
    assert config is not None and uvicorn_log_config(level, "text") is None
    logging.config.dictConfig(config)
    for name in ("uvicorn", "uvicorn.access", ""):
        handlers = logging.getLogger(name).handlers
        assert handlers and all(isinstance(h.formatter, JsonFormatter) for h in handlers), name
    assert logging.getLogger().level == getattr(logging, level.upper())


def test_formats_are_text_and_json():
    assert logs.LOG_FORMATS == ("text", "json")
