"""rq-gateway command line: `serve` and `export-schema`. Every option has an environment twin."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from pathlib import Path
from typing import TypeVar

import click

from gateway.cli_security import (
    access_summary,
    export_for_workers,
    keys,
    refuse_open_exposure,
    security_options,
    security_settings,
    security_settings_from_env,
)
from gateway.config import DEFAULT_QUEUE, Settings

log = logging.getLogger("gateway")

GIL_SWITCH_INTERVAL = 0.0005
T = TypeVar("T")

_SETTINGS_ENV = {
    "redis_url": "REDIS_URL",
    "default_queue": "RQ_GATEWAY_DEFAULT_QUEUE",
    "redis_timeout": "RQ_GATEWAY_REDIS_TIMEOUT",
    "serializer": "RQ_GATEWAY_SERIALIZER",
}


def settings_from_env() -> Settings:
    """Settings for uvicorn worker processes, which get them from the parent's environment."""
    return Settings(
        redis_url=os.environ.get("REDIS_URL") or None,
        default_queue=os.environ.get("RQ_GATEWAY_DEFAULT_QUEUE", DEFAULT_QUEUE),
        redis_timeout=float(os.environ.get("RQ_GATEWAY_REDIS_TIMEOUT", Settings.redis_timeout)),
        serializer=os.environ.get("RQ_GATEWAY_SERIALIZER") or None,
        **security_settings_from_env(),
    )


def app_from_env():
    """uvicorn factory for --workers > 1: each worker process configures its own logging."""
    from gateway.app import create_app

    configure_process(os.environ.get("RQ_GATEWAY_LOG_LEVEL", "info"))
    return settle_heap(create_app(settings_from_env()))


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


def configure_process(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(levelname)s:     %(message)s")
    # Decoding a big list is CPU work in a threadpool thread. With CPython's default 5 ms GIL
    # switch interval, the event loop waits up to 5 ms at each hand-off while it runs, which
    # multiplies the latency of small requests (stats, health) served meanwhile.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)


def _valid_queue(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    from gateway.errors import InvalidParameter
    from gateway.services.validation import validate_queue_name

    try:
        return validate_queue_name(value)
    except InvalidParameter as error:
        raise click.BadParameter(error.message) from None


def _valid_serializer(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from gateway.errors import InvalidParameter
    from gateway.services.validation import validate_serializer

    try:
        return validate_serializer(value)
    except InvalidParameter as error:
        raise click.BadParameter(error.message) from None


@click.group()
@click.version_option(package_name="rq-gateway")
def main() -> None:
    """REST and GraphQL gateway for RQ (Redis Queue)."""


# Each command's short_help is what `rq-gateway --help` lists: click would cut the docstring's
# first sentence to fit 80 columns and end it with "...".
@main.command(short_help="Serve the REST API and GraphQL over HTTP.")
@click.option(
    "--redis-url",
    envvar="REDIS_URL",
    default=None,
    show_envvar=True,
    help="Redis of your RQ deployment, e.g. redis://localhost:6379/0. "
    "Without it the gateway runs in demo mode on an embedded in-memory Redis.",
)
@click.option(
    "--host",
    envvar="RQ_GATEWAY_HOST",
    default="127.0.0.1",
    show_default=True,
    show_envvar=True,
    help="Interface to listen on; 0.0.0.0 for every interface (then API keys are required).",
)
@click.option(
    "--port",
    envvar="RQ_GATEWAY_PORT",
    default=8000,
    type=int,
    show_default=True,
    show_envvar=True,
    help="TCP port to listen on.",
)
@click.option(
    "--workers",
    envvar="RQ_GATEWAY_WORKERS",
    default=1,
    type=click.IntRange(min=1),
    show_default=True,
    show_envvar=True,
    help="uvicorn worker processes (1 in demo mode).",
)
@click.option(
    "--default-queue",
    envvar="RQ_GATEWAY_DEFAULT_QUEUE",
    default=DEFAULT_QUEUE,
    show_default=True,
    show_envvar=True,
    callback=_valid_queue,
    help="Queue used when a request names none.",
)
@click.option(
    "--redis-timeout",
    envvar="RQ_GATEWAY_REDIS_TIMEOUT",
    default=Settings.redis_timeout,
    type=float,
    show_default=True,
    show_envvar=True,
    help="Seconds one Redis command may take.",
)
@click.option(
    "--serializer",
    envvar="RQ_GATEWAY_SERIALIZER",
    default=None,
    show_envvar=True,
    callback=_valid_serializer,
    help="Serializer of your RQ jobs, as for `rq worker --serializer` (default: RQ's pickle).",
)
@click.option(
    "--log-level",
    envvar="RQ_GATEWAY_LOG_LEVEL",
    default="info",
    show_default=True,
    show_envvar=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="Least severe log messages shown, for the gateway and uvicorn.",
)
@security_options
def serve(
    redis_url, host, port, workers, default_queue, redis_timeout, serializer, log_level, **security
) -> None:
    """Serve the REST API (/api/v1/jobs, /docs) and GraphQL (/graphql)."""
    import uvicorn

    from gateway.app import create_app

    configure_process(log_level)
    settings = Settings(
        redis_url=redis_url or None,
        default_queue=default_queue,
        redis_timeout=redis_timeout,
        serializer=serializer,
        **security_settings(security),
    )
    refuse_open_exposure(settings, host, security["allow_anonymous"])
    if settings.demo:
        from gateway.demo.seed import demo_connection

        # Printed, not logged, so that no --log-level can hide it.
        click.echo(
            "DEMO MODE: not connected to a real Redis. Serving an embedded in-memory Redis with demo "
            "jobs; nothing is persisted. Pass --redis-url (or REDIS_URL) to manage your RQ jobs.",
            err=True,
        )
        app = settle_heap(create_app(settings, connection=demo_connection()))
        uvicorn.run(app, host=host, port=port, log_level=log_level)
        return

    log.info("Managing RQ jobs on %s (default queue %r)", _redacted(settings.redis_url), default_queue)
    log.info(access_summary(settings))
    warn_if_unreachable(settings)
    if workers == 1:
        uvicorn.run(settle_heap(create_app(settings)), host=host, port=port, log_level=log_level)
        return
    for field, env in _SETTINGS_ENV.items():
        value = getattr(settings, field)
        if value is not None:
            os.environ[env] = str(value)
    os.environ["RQ_GATEWAY_LOG_LEVEL"] = log_level
    export_for_workers(settings)
    uvicorn.run(
        "gateway.cli:app_from_env", factory=True, host=host, port=port, workers=workers, log_level=log_level
    )


def warn_if_unreachable(settings: Settings) -> None:
    """One warning line for a wrong --redis-url. The gateway starts anyway (Redis may be starting
    too) and answers 503 until Redis answers, as it does in any outage."""
    import redis

    from gateway.config import connect

    client = connect(settings)
    try:
        client.ping()
    except redis.RedisError as error:
        log.warning(
            "Cannot reach Redis at %s (%s); serving anyway, with 503 answers until it can",
            _redacted(settings.redis_url),
            error,
        )
    finally:
        client.close()


def _redacted(url: str) -> str:
    """The URL without its password, for logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


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
