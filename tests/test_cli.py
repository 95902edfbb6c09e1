"""The CLI: `serve` in demo mode under real uvicorn, environment twins, and `export-schema`."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import click
import httpx
import pytest
from click.testing import CliRunner

from gateway.cli import main, render_schemas
from gateway.services import redact


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling interval, bounded by the deadline
    raise AssertionError(f"{url} not ready within {deadline_s}s")


@pytest.mark.e2e
def test_serve_without_redis_runs_the_seeded_demo():
    port = free_port()
    env = {**os.environ, "RQ_GATEWAY_PORT": str(port), "RQ_GATEWAY_DEFAULT_QUEUE": "reports"}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/readyz", process)
        stats = httpx.get(f"{base}/api/v1/jobs/stats").json()
        assert stats["queue_name"] == "reports", "RQ_GATEWAY_DEFAULT_QUEUE is the twin of --default-queue"
        default = httpx.get(f"{base}/api/v1/jobs/stats?queue=default").json()
        assert (
            default["failed_count"] >= 1 and default["finished_count"] >= 1 and default["queued_count"] >= 1
        )
        failed = httpx.get(f"{base}/api/v1/jobs/failed?queue=default").json()
        assert all("Traceback" in job["exc_info"] for job in failed)
        flaky = next(job for job in failed if job["func_name"].endswith("flaky_charge"))
        retried = httpx.post(f"{base}/api/v1/jobs/failed/{flaky['job_id']}/retry?queue=default").json()
        assert retried["success"] is True
        assert httpx.get(f"{base}/docs").status_code == 200
        graphql = httpx.post(f"{base}/graphql", json={"query": "{ queueStats { queueName } }"}).json()
        assert graphql == {"data": {"queueStats": {"queueName": "reports"}}}
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert "Traceback" not in stderr, "Ctrl+C / docker stop must shut the demo down cleanly"
    assert process.returncode != 1
    first_line = stderr.strip().splitlines()[0]
    assert "DEMO MODE" in first_line and "not connected to a real Redis" in first_line


@pytest.mark.e2e
def test_an_unreachable_redis_url_is_one_warning_line_at_start_up():
    """The gateway still starts (Redis may come up later) and answers 503 until it can reach it."""
    port, nothing_listens = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "RQ_GATEWAY_"))}
    url = f"redis://:s3cret@127.0.0.1:{nothing_listens}/0"
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--redis-url", url, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/healthz", process)
        assert httpx.get(f"{base}/readyz").status_code == 503
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    warnings = [line for line in stderr.splitlines() if "Cannot reach Redis" in line]
    assert len(warnings) == 1, stderr
    assert warnings[0].startswith("WARNING:")
    assert f"redis://:***@127.0.0.1:{nothing_listens}/0" in warnings[0]
    assert "s3cret" not in stderr


def test_every_serve_option_has_an_environment_twin():
    serve = main.commands["serve"]
    for option in serve.params:
        assert option.envvar, option.name
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert "REDIS_URL" in result.output and "RQ_GATEWAY_PORT" in result.output


def test_export_schema_writes_the_rendered_files(tmp_path):
    result = CliRunner().invoke(main, ["export-schema", "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name, text in render_schemas().items():
        assert (tmp_path / name).read_text() == text


def test_bad_default_queue_is_a_usage_error():
    result = CliRunner().invoke(main, ["serve", "--default-queue", "bad\tq"])
    assert result.exit_code == 2
    assert "Invalid queue name" in result.output


def test_unknown_serializer_is_a_usage_error():
    result = CliRunner().invoke(main, ["serve", "--serializer", "no.such.Serializer"])
    assert result.exit_code == 2
    assert "Cannot import serializer" in result.output


def test_passwords_are_redacted_from_logged_urls():
    assert redact("redis://user:s3cret@host:6379/0") == "redis://user:***@host:6379/0"
    assert redact("redis://host:6379/0") == "redis://host:6379/0"


def test_settle_heap_freezes_the_startup_heap_and_slows_full_collections():
    import gc

    from gateway.cli import settle_heap

    threshold = gc.get_threshold()
    try:
        app = object()
        assert settle_heap(app) is app
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[2] >= 100
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_readme_configuration_table_matches_the_serve_options():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = dict(re.findall(r"^\| `(--[a-z-]+)` \| `([A-Z_]+)` \|", table, flags=re.M))
    options = {param.opts[0]: param.envvar for param in main.commands["serve"].params}
    assert documented == options


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def test_help_lists_every_command_summary_whole():
    """click cuts a docstring's first sentence to fit 80 columns and ends it with '...'."""
    for path, command in [((), main), *_commands(main)]:
        if not isinstance(command, click.Group):
            continue
        result = CliRunner().invoke(main, [*path, "--help"], terminal_width=80)
        assert result.exit_code == 0, result.output
        listed = result.output.split("Commands:\n", 1)[1]
        assert "..." not in listed, (path, listed)
        for name in command.commands:
            assert re.search(rf"^  {name}\s+\S", listed, flags=re.M), (path, name)


def test_every_option_of_every_command_has_help_text():
    for path, command in _commands(main):
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, (path, param.name)
    serve_help = CliRunner().invoke(main, ["serve", "--help"], terminal_width=200).output
    for option in ("--host", "--port", "--log-level"):
        line = next(line for line in serve_help.splitlines() if line.strip().startswith(option))
        assert not re.search(rf"{option} \S+\s+\[env var", line), line


def test_every_instance_that_cannot_be_reached_is_one_warning_line_naming_it(caplog):
    """With several instances, the start-up check covers each, not only the default: a wrong
    password or an address nothing listens on shows at start-up, under the instance's name."""
    import logging

    from gateway.cli import warn_if_unreachable
    from gateway.config import Settings

    default, b = free_port(), free_port()
    settings = Settings(
        redis_url=f"redis://127.0.0.1:{default}/0", redis_instances=(f"b=redis://:s3cret@127.0.0.1:{b}/0",)
    )
    with caplog.at_level(logging.WARNING, logger="gateway"):
        warn_if_unreachable(settings)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2, lines
    # Named as its 503s and its history's log lines name it, once there are several.
    assert lines[0].startswith(f"Cannot reach Redis instance 'default' at redis://127.0.0.1:{default}/0 (")
    assert lines[1].startswith(f"Cannot reach Redis instance 'b' at redis://:***@127.0.0.1:{b}/0 (")
    assert all(line.endswith("serving anyway, with 503 answers until it can") for line in lines)


def test_history_log_lines_name_their_instance_when_there_are_several(caplog):
    """Each instance has its own history writer; with several, a failing one says which."""
    import asyncio
    import logging

    import redis

    from gateway.services.history.runner import history_sampling

    async def sample_once() -> None:
        dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
        async with history_sampling(dead, 3600, 30.0, 10.0, instance="billing") as writer:
            while not any("tick failed" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.01)
            assert writer.label == "history (instance 'billing')"

    with caplog.at_level(logging.WARNING):
        asyncio.run(asyncio.wait_for(sample_once(), 10))
    (line,) = [r.getMessage() for r in caplog.records if "tick failed" in r.getMessage()]
    assert line.startswith("history (instance 'billing'): tick failed, retrying every 10.0s: ")
