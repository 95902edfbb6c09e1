"""The one place a Redis client is built: a URL (redis://, rediss://, unix://) or Sentinel, with
TLS files, timeouts and the retry policy. Every instance the gateway talks to is built here.

Sentinel comes two ways, which mean the same: `redis+sentinel://[user:pass@]host:port[,host:port
...]/MASTER/DB`, or the sentinels, master name and DB given separately (`SentinelTarget`). The
credentials in the URL are the master's; the sentinels' own password is `sentinel_password`. TLS
files turn on TLS to the sentinels and the master alike (`sentinel_kwargs`)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.connection import parse_url  # pyright: ignore[reportUnknownVariableType]  -- unannotated in redis-py
from redis.retry import Retry

from gateway.errors import InvalidParameter
from gateway.services.redis.resend import GatewayRedis, SendOnceRetry
from gateway.services.redis.sentinel_connection import GatewaySentinelPool, sentinel_connection_class
from gateway.services.redis.sentinel_discovery import ExplainedSentinel

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_PORT = 26379


@dataclass(frozen=True)
class SentinelTarget:
    """Where Sentinel says the master is: the sentinels to ask, the master's name, its DB."""

    sentinels: tuple[tuple[str, int], ...]
    master_name: str
    db: int = 0
    username: str | None = None
    password: str | None = None

    def describe(self) -> str:
        """For logs: no password."""
        hosts = ",".join(f"{host}:{port}" for host, port in self.sentinels)
        return f"Sentinel master {self.master_name!r} (db {self.db}) via {hosts}"


@dataclass(frozen=True)
class ConnectionOptions:
    """How to talk to every Redis: timeouts, TLS files, the sentinels' password."""

    timeout: float = 2.5
    connect_timeout: float = 1.5
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    sentinel_password: str | None = None

    def tls_kwargs(self) -> dict[str, Any]:
        files = {"ssl_ca_certs": self.ca_file, "ssl_certfile": self.cert_file, "ssl_keyfile": self.key_file}
        return {name: path for name, path in files.items() if path}

    def client_kwargs(self) -> dict[str, Any]:
        # One retry on a dropped connection: a restarted Redis, or (with Sentinel) a master that
        # moved, is picked up silently; NoBackoff keeps the bound near 2 x the timeouts. A write
        # whose reply was lost is never sent again (resend.py): it may have run.
        return {
            "socket_timeout": self.timeout,
            "socket_connect_timeout": self.connect_timeout,
            "retry": SendOnceRetry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
            "health_check_interval": 15,
        }


def parse_sentinels(text: str) -> tuple[tuple[str, int], ...]:
    """'host:port,host:port' (the port defaults to 26379) as pairs; InvalidParameter if malformed."""
    pairs: list[tuple[str, int]] = []
    for item in (part.strip() for part in text.split(",")):
        host, colon, port = item.rpartition(":")
        if not colon:
            host, port = item, str(SENTINEL_PORT)
        host = host.strip("[]")  # an IPv6 address in brackets
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidParameter(f"{item!r} is not host:port (a sentinel's address)")
        pairs.append((host, int(port)))
    return tuple(pairs)


def parse_sentinel_url(url: str) -> SentinelTarget:
    """`redis+sentinel://[user:pass@]host:port[,host:port...]/MASTER[/DB]` as a SentinelTarget."""
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    path = [unquote(segment) for segment in parts.path.split("/") if segment]
    if not hosts or not 1 <= len(path) <= 2 or (len(path) == 2 and not path[1].isdigit()):
        raise InvalidParameter(
            f"expected {SENTINEL_SCHEME}://host:port[,host:port...]/MASTER_NAME[/DB], got {redact(url)!r}"
        )
    return SentinelTarget(
        parse_sentinels(hosts),
        path[0],
        int(path[1]) if len(path) == 2 else 0,
        unquote(username) or None,
        unquote(password) or None,
    )


URL_FORMS = "a redis://, rediss://, unix:// or redis+sentinel:// URL"
_DB = "the database must be a whole number, e.g. redis://host:6379/0"


def check_redis_url(url: str) -> None:
    """InvalidParameter, saying what is wrong and never showing a password, for a URL the gateway
    could not connect with: checked at start-up, where redis-py would raise at the first
    connection, and where it would read a database it cannot parse as 0 without a word."""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise InvalidParameter(f"not a URL ({error}); expected {URL_FORMS}") from None
    if parts.scheme == SENTINEL_SCHEME:
        parse_sentinel_url(url)
        return
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise InvalidParameter(f"expected {URL_FORMS}, got {redact(url)!r}")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.rpartition("@")[2].endswith(":")):
        raise InvalidParameter(f"the port must be a number from 1 to 65535, got {redact(url)!r}")
    path_db = parts.path.replace("/", "") if parts.scheme != "unix" else ""
    if not all(
        db.isdigit() for db in [*parse_qs(parts.query).get("db", []), *([path_db] if path_db else [])]
    ):
        raise InvalidParameter(f"{_DB}, got {redact(url)!r}")
    try:
        parse_url(url)
    except ValueError as error:
        raise InvalidParameter(f"{error} ({redact(url)!r})") from None


def is_sentinel_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme == SENTINEL_SCHEME


def check_ca_file(path: str) -> None:
    """Load the CA file as redis-py will, so a missing or bad file stops start-up under its own
    name instead of failing every connection later. InvalidParameter says what is wrong."""
    _load(path, lambda context: context.load_verify_locations(cafile=path), "CA certificates (PEM)")


def check_client_certificate(cert_file: str | None, key_file: str | None) -> None:
    """The same for the client certificate and its key (mutual TLS): both, loadable, matching."""
    if not (cert_file and key_file):
        raise InvalidParameter("a client certificate and its key go together: give both files or neither")
    for path in (cert_file, key_file):
        _load(path, lambda _: None, "")
    _load(
        cert_file, lambda context: context.load_cert_chain(cert_file, key_file), "a certificate and its key"
    )


def _load(path: str, load: Callable[[ssl.SSLContext], None], expected: str) -> None:
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise InvalidParameter(f"{path!r} is not a readable file")
    try:
        load(ssl.create_default_context())
    except (ssl.SSLError, OSError, ValueError) as error:
        raise InvalidParameter(f"{path!r} does not hold {expected}: {error}") from None


def connect_redis(url: str | SentinelTarget, options: ConnectionOptions) -> redis.Redis:
    """A Redis client whose every command fails fast instead of hanging on a dead or frozen server.
    With Sentinel, each new connection asks the sentinels where the master is, so the client
    follows a failover by itself."""
    if isinstance(url, str) and is_sentinel_url(url):
        url = parse_sentinel_url(url)
    if isinstance(url, SentinelTarget):
        return _sentinel_master(url, options)
    tls = options.tls_kwargs()
    if tls and urlsplit(url).scheme != "rediss":
        raise InvalidParameter("TLS files need a rediss:// URL")
    return GatewayRedis.from_url(  # pyright: ignore[reportUnknownMemberType]  -- redis-py leaves **kwargs unannotated
        url, **options.client_kwargs(), **tls
    )


def sentinel_kwargs(options: ConnectionOptions) -> tuple[dict[str, Any], dict[str, Any]]:
    """The connection arguments of the sentinels and of the master. TLS files turn TLS on for
    both: a deployment that serves TLS (`tls-port`) to clients does so on its sentinels and its
    master alike, with one CA, and Sentinel itself names the master by the address it monitors."""
    tls = {"ssl": True, **options.tls_kwargs()} if options.tls_kwargs() else {}
    to_sentinels = {
        "socket_timeout": options.timeout,
        "socket_connect_timeout": options.connect_timeout,
        "password": options.sentinel_password,
        # A sentinel that does not answer is skipped for the next one at once, not retried with
        # redis-py's default back-off, which would hold every request during a failover.
        "retry": Retry(NoBackoff(), 0),
        **tls,
    }
    # The master's connections drop a socket whose reply timed out, so a hung master is left for
    # the one Sentinel promotes (sentinel_connection.py); its class carries TLS, not `ssl`.
    to_master = {**options.client_kwargs(), **options.tls_kwargs()}
    return to_sentinels, {**to_master, "connection_class": sentinel_connection_class(bool(tls))}


def _sentinel_master(target: SentinelTarget, options: ConnectionOptions) -> redis.Redis:
    to_sentinels, to_master = sentinel_kwargs(options)
    sentinel = ExplainedSentinel(list(target.sentinels), sentinel_kwargs=to_sentinels)
    return sentinel.master_for(  # pyright: ignore[reportUnknownMemberType]  -- redis-py leaves service_name and **kwargs unannotated
        target.master_name,
        redis_class=GatewayRedis,
        connection_pool_class=GatewaySentinelPool,
        db=target.db,
        username=target.username,
        password=target.password,
        **to_master,
    )


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return parts.geturl()
