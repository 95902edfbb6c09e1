"""Which Redis the settings name, and how to reach it: a URL or Sentinel, with TLS files.

`check_topology` refuses settings that contradict each other or TLS files that do not load, at
start-up and by name; `connect` hands `redis_target` and `connection_options` to the one client
builder (gateway/services/redis/connection.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.config import Settings, env_name
from gateway.errors import InvalidParameter

if TYPE_CHECKING:  # imported where used: gateway.services is heavy, and Settings is read first
    import redis

    from gateway.services import ConnectionOptions, SentinelTarget


def connect(settings: Settings) -> redis.Redis:
    """The Redis client of these settings: a URL, or Sentinel's current master (never demo mode)."""
    from gateway.services import connect_redis

    return connect_redis(redis_target(settings), connection_options(settings))


def check_topology(settings: Settings) -> None:
    """ValueError (a refusal naming the options and their variables) for contradictory Sentinel
    or TLS settings, or TLS files that do not load."""
    from gateway.services import check_ca_file, check_client_certificate, check_redis_url, is_sentinel_url

    if settings.redis_url:
        try:
            check_redis_url(settings.redis_url)
        except InvalidParameter as error:
            raise ValueError(_named("redis_url") + ": " + error.message) from None
    sentinel = bool(settings.redis_sentinel) or is_sentinel_url(settings.redis_url)
    _check_instances(settings)
    if settings.redis_sentinel and settings.redis_url:
        raise ValueError(_both("redis_url", "redis_sentinel") + ": give one or the other")
    if bool(settings.redis_sentinel) != bool(settings.redis_master_name):
        raise ValueError(_both("redis_sentinel", "redis_master_name") + ": give both or neither")
    if settings.redis_sentinel_password and not sentinel:
        raise ValueError(_named("redis_sentinel_password") + ": only used with Sentinel")
    tls = [f for f in ("redis_ca_file", "redis_cert_file", "redis_key_file") if getattr(settings, f)]
    if tls:
        _check_tls_targets(settings, tls, sentinel)
    try:
        if settings.redis_ca_file:
            check_ca_file(settings.redis_ca_file)
    except InvalidParameter as error:
        raise ValueError(_named("redis_ca_file") + ": " + error.message) from None
    try:
        if settings.redis_cert_file or settings.redis_key_file:
            check_client_certificate(settings.redis_cert_file, settings.redis_key_file)
    except InvalidParameter as error:
        raise ValueError(_both("redis_cert_file", "redis_key_file") + ": " + error.message) from None


def _check_tls_targets(settings: Settings, tls: list[str], sentinel: bool) -> None:
    """The shared TLS files apply to every instance, so each must be one that takes TLS: a
    rediss:// URL, or Sentinel (where the TLS files alone turn TLS on, for the sentinels and the
    master alike). An instance that would be refused at its first connection is refused now, by
    name, with the way out (README "Several Redis instances")."""
    from gateway.services import is_sentinel_url

    def takes_tls(url: str) -> bool:
        return url.startswith("rediss://") or is_sentinel_url(url)

    if not (sentinel or settings.redis_url or settings.redis_instances):
        raise ValueError(_both(*tls) + ": needs a rediss:// URL (TLS)")
    if settings.redis_url and not takes_tls(settings.redis_url):
        raise ValueError(_both(*tls) + ": needs a rediss:// URL (TLS)")
    for name, _, url in (item.partition("=") for item in settings.redis_instances):
        if not takes_tls(url):
            raise ValueError(
                _both(*tls) + f": apply to every instance, and instance {name!r} has no rediss:// URL; "
                "give it one, or its own TLS files in a settings file's instance table"
            )


def _check_instances(settings: Settings) -> None:
    from gateway.redis_instances import DEFAULT_INSTANCE
    from gateway.services import check_redis_url

    for name, _, url in (item.partition("=") for item in settings.redis_instances):
        try:
            check_redis_url(url)
        except InvalidParameter as error:
            raise ValueError(_named("redis_instances") + f": instance {name!r}: {error.message}") from None
    named = [item.split("=", 1)[0] for item in settings.redis_instances]
    if DEFAULT_INSTANCE in named and (settings.redis_url or settings.redis_sentinel):
        raise ValueError(
            _named("redis_instances") + f": {DEFAULT_INSTANCE!r} is the name of --redis-url's "
            "(or --redis-sentinel's) instance; name the others differently"
        )


def _named(field: str) -> str:
    """A field as its option and its variable, for refusals that concern several fields."""
    return f"--{field.replace('_', '-')} ({env_name(field)})"


def _both(*fields: str) -> str:
    return " and ".join(_named(field) for field in fields)


def redis_target(settings: Settings) -> str | SentinelTarget:
    """The URL, or for --redis-sentinel the SentinelTarget, that `connect` connects to."""
    from gateway.services import SentinelTarget, parse_sentinels

    if settings.redis_sentinel:
        assert settings.redis_master_name, "checked by Settings: the sentinels come with a master name"
        return SentinelTarget(parse_sentinels(",".join(settings.redis_sentinel)), settings.redis_master_name)
    if not settings.redis_url and settings.redis_instances:
        return settings.redis_instances[0].split("=", 1)[1]  # the first instance is the default
    assert settings.redis_url, "demo mode has no Redis URL: create_app takes its connection instead"
    return settings.redis_url


def connection_options(settings: Settings) -> ConnectionOptions:
    from gateway.services import ConnectionOptions

    return ConnectionOptions(
        timeout=settings.redis_timeout,
        connect_timeout=settings.redis_connect_timeout,
        ca_file=settings.redis_ca_file,
        cert_file=settings.redis_cert_file,
        key_file=settings.redis_key_file,
        sentinel_password=settings.redis_sentinel_password,
    )


def describe_redis(settings: Settings) -> str:
    """Where the gateway's Redis is, for logs: never a password."""
    from gateway.services import SentinelTarget, redact

    target = redis_target(settings)
    return target.describe() if isinstance(target, SentinelTarget) else redact(target)
