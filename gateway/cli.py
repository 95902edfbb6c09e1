"""rq-gateway command line: `serve` and `export-schema`. Every option has an environment twin."""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click

from gateway.cli_options import settings_from_options, settings_options
from gateway.cli_security import access_summary, keys, refuse_open_exposure
from gateway.config import Settings, export_environment
from gateway.logs import configure_logging, uvicorn_log_config
from gateway.redis_settings import describe_redis

log = logging.getLogger("gateway")

GIL_SWITCH_INTERVAL = 0.0005
T = TypeVar("T")


def app_from_env():
    """uvicorn factory for --workers > 1: each worker process configures its own logging."""
    from gateway.app import create_app

    settings = Settings()  # the parent exported its settings with export_environment
    configure_process(settings.log_level, settings.log_format)
    return settle_heap(create_app(settings))


def settle_heap(app: T) -> T:
    """Keep full garbage collections short and rare once the app is built.

    Listing 10k jobs keeps ~100k container objects alive at once, which triggers full (gen2)
    collections; each scanned every object since start-up (~90k from imports) and paused all
    threads, the event loop included, for 50-150 ms. Freezing the start-up heap takes it out of
    those scans, and a higher gen2 threshold makes them rarer: the gateway's garbage is almost
    all freed by reference counting, so cycles wait little longer."""
    gc.freeze()
    gc.set_threshold(700, 10, 100)
    return app


def configure_process(level: str, log_format: str = "text") -> None:
    configure_logging(level, log_format)
    # Decoding a big list is CPU work in a threadpool thread. With CPython's default 5 ms GIL
    # switch interval, the event loop waits up to 5 ms at each hand-off while it runs, which
    # multiplies the latency of small requests (stats, health) served meanwhile.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)


@click.group()
@click.version_option(package_name="rq-gateway")
def main() -> None:
    """REST and GraphQL gateway for RQ (Redis Queue)."""


# Each command's short_help is what `rq-gateway --help` lists: click would cut the docstring's
# first sentence to fit 80 columns and end it with "...".
@main.command(short_help="Serve the REST API and GraphQL over HTTP.")
@settings_options
@click.pass_context
def serve(ctx: click.Context, **options) -> None:
    """Serve the REST API (/api/v1/jobs, /docs) and GraphQL (/graphql)."""
    import uvicorn

    from gateway.app import create_app

    settings = settings_from_options(ctx, options)
    configure_process(settings.log_level, settings.log_format)
    refuse_open_exposure(settings)
    if settings.demo:
        from gateway.demo.seed import demo_connection

        # Printed, not logged, so that no --log-level can hide it.
        click.echo(
            "DEMO MODE: not connected to a real Redis. Serving an embedded in-memory Redis with demo "
            "jobs; nothing is persisted. Pass --redis-url (or REDIS_URL) to manage your RQ jobs.",
            err=True,
        )
        app = settle_heap(create_app(settings, connection=demo_connection()))
        uvicorn.run(app, **_uvicorn_options(settings))
        return

    log.info("Managing RQ jobs on %s (default queue %r)", describe_redis(settings), settings.default_queue)
    log.info(access_summary(settings))
    warn_if_unreachable(settings)
    run = _uvicorn_options(settings)
    if settings.workers == 1:
        uvicorn.run(settle_heap(create_app(settings)), **run)
        return
    export_environment(settings)
    with metrics_directory():
        uvicorn.run("gateway.cli:app_from_env", factory=True, workers=settings.workers, **run)


def _uvicorn_options(settings: Settings) -> dict:
    run = {"host": settings.host, "port": settings.port, "log_level": settings.log_level}
    log_config = uvicorn_log_config(settings.log_level, settings.log_format)
    if log_config is not None:  # None would mean "configure no logging at all" to uvicorn
        run["log_config"] = log_config
    return run


MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_directory() -> Iterator[str]:
    """A fresh, empty directory for prometheus-client's multiprocess files, named to the worker
    processes in PROMETHEUS_MULTIPROC_DIR (they are spawned, so they import prometheus-client
    after it is set), and removed when the server stops. Always a new one: counters left by an
    earlier run in a reused directory would be summed into this run's (README "Monitoring")."""
    directory = tempfile.mkdtemp(prefix="rq-gateway-metrics-")
    previous = os.environ.get(MULTIPROC_VARIABLE)
    os.environ[MULTIPROC_VARIABLE] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_VARIABLE, None)
        else:
            os.environ[MULTIPROC_VARIABLE] = previous
        shutil.rmtree(directory, ignore_errors=True)


def warn_if_unreachable(settings: Settings) -> None:
    """One warning line for each Redis instance the gateway cannot work with: unreachable, a TLS
    failure, refused credentials or an ACL user without RQ's keys, each said in words. The gateway
    starts anyway (Redis may be starting too) and answers 503 with the same words until Redis
    answers. With several instances, each line names its instance."""
    from gateway.redis_instances import instance_settings
    from gateway.redis_settings import connect
    from gateway.services import startup_problem

    named = instance_settings(settings)
    for name, alone in named.items():
        client = connect(alone)
        try:
            problem = startup_problem(client)
        finally:
            client.close()
        if problem:
            log.warning(
                "Cannot reach Redis%s at %s (%s); serving anyway, with 503 answers until it can",
                f" instance {name!r}" if len(named) > 1 else "",
                describe_redis(alone),
                problem,
            )


def render_schemas() -> dict[str, str]:
    """The contract files, as `export-schema` writes them: {file name: text}."""
    import redis

    from gateway.app import create_app
    from gateway.graphql.schema import schema

    app = create_app(Settings(redis_url="redis://127.0.0.1:6379/0"), connection=redis.Redis())
    return {
        "schema.graphql": schema.as_str() + "\n",
        "openapi.json": json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n",
    }


main.add_command(keys)


@main.command("export-schema", short_help="Write the GraphQL schema and the OpenAPI file.")
@click.option(
    "--out-dir",
    default="schema",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write schema.graphql and openapi.json into.",
)
def export_schema(out_dir: Path) -> None:
    """Write schema/schema.graphql and schema/openapi.json from the code."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in render_schemas().items():
        (out_dir / name).write_text(text)
        click.echo(f"wrote {out_dir / name}")
