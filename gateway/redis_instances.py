"""`--redis NAME=URL` (repeatable) / RQ_GATEWAY_REDIS_INSTANCES: several Redis instances in one
gateway. The variable holds a JSON object `{"NAME": "URL", ...}` or a comma-separated list of
NAME=URL (a comma splits only before `NAME=`, so a redis+sentinel:// host list stays whole).

The default instance is `--redis-url` (named `default`) when given, else the first of these.
Timeouts and TLS files apply to every instance; a settings file (--config) may give an instance
its own TLS files, or its sentinels, in a table (url_of_table), which becomes its URL."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    import redis

    from gateway.config import Settings
    from gateway.services import Instances

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SPLIT = re.compile(r",\s*(?=[A-Za-z0-9_-]{1,64}=)")
DEFAULT_INSTANCE = "default"


def parse_instances(value: Any) -> tuple[str, ...]:
    """NAME=URL items, checked: names unique and well formed, each with a URL."""
    if isinstance(value, Mapping):  # a settings file's table of NAME = URL or NAME = {table}
        value = [
            f"{name}={url if isinstance(url, str) else url_of_table(str(name), url)}"
            for name, url in value.items()
        ]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                mapping = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(f"not a JSON object of NAME: URL ({error.msg})") from None
            if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
                raise ValueError("expected a JSON object of NAME: URL")
            items = [f"{name}={url}" for name, url in mapping.items()]
        else:
            items = [item.strip() for item in _SPLIT.split(text) if item.strip()]
    else:
        items = [str(item).strip() for item in value]
    names = []
    for item in items:
        name, equals, url = item.partition("=")
        if not equals or not _NAME.fullmatch(name) or not url.strip():
            # Not echoed: the URL may hold a password.
            raise ValueError(
                f"expected NAME=URL, NAME being 1-64 letters, digits, '_' or '-' (item {len(names) + 1})"
            )
        if name in names:
            raise ValueError(f"instance {name!r} is given twice")
        names.append(name)
    return tuple(items)


# An instance's table in a settings file: where it is, and its own TLS files.
TABLE_KEYS = ("url", "sentinel", "master_name", "db", "ca_file", "cert_file", "key_file")
# Its TLS files travel in its URL, as redis-py's URL parameters: every instance stays one URL.
_URL_PARAMETER = {"ca_file": "ssl_ca_certs", "cert_file": "ssl_certfile", "key_file": "ssl_keyfile"}


def url_of_table(name: str, table: Any) -> str:
    """The URL of `[redis_instances.NAME]`: `url`, or `sentinel` (hosts) with `master_name` and
    `db`; its `ca_file`, `cert_file` and `key_file` (checked now) as the URL's TLS parameters."""
    from gateway.errors import InvalidParameter
    from gateway.services import check_ca_file, check_client_certificate, parse_sentinels

    where = f"instance {name!r}"
    if not isinstance(table, Mapping):
        raise ValueError(f'{where}: expected a URL or a table, e.g. {{ url = "redis://host:6379/0" }}')
    unknown = sorted(set(table) - set(TABLE_KEYS))
    if unknown:
        raise ValueError(
            f"{where}: {', '.join(map(repr, unknown))} not known; expected {', '.join(TABLE_KEYS)}"
        )
    if ("url" in table) == ("sentinel" in table) or ("sentinel" in table) != ("master_name" in table):
        raise ValueError(f"{where}: give url, or sentinel with master_name")
    try:
        if "sentinel" in table:
            hosts = table["sentinel"] if isinstance(table["sentinel"], str) else ",".join(table["sentinel"])
            pairs = ",".join(f"{host}:{port}" for host, port in parse_sentinels(hosts))
            url = f"redis+sentinel://{pairs}/{table['master_name']}/{int(table.get('db', 0))}"
        else:
            url = str(table["url"])
        files = {key: str(table[key]) for key in _URL_PARAMETER if key in table}
        if files and not url.startswith("rediss://"):
            raise InvalidParameter(
                "TLS files need a rediss:// url (Sentinel uses --redis-ca-file and its pair)"
            )
        if "ca_file" in files:
            check_ca_file(files["ca_file"])
        if "cert_file" in files or "key_file" in files:
            check_client_certificate(files.get("cert_file"), files.get("key_file"))
    except InvalidParameter as error:
        raise ValueError(f"{where}: {error.message}") from None
    except (TypeError, ValueError):
        raise ValueError(f"{where}: db must be a whole number and sentinel a list of host:port") from None
    if not files:
        return url
    query = urlencode({_URL_PARAMETER[key]: path for key, path in files.items()})
    return f"{url}{'&' if '?' in url else '?'}{query}"


def serialize_instances(items: tuple[str, ...]) -> str:
    """As JSON, which reads back whatever the URLs hold."""
    return json.dumps(dict(item.split("=", 1) for item in items))


def instance_settings(settings: Settings) -> dict[str, Settings]:
    """The settings of each instance, the default first: --redis-url or --redis-sentinel's, then
    each --redis item as its own URL with the shared timeouts and TLS files."""
    named: dict[str, Settings] = {}
    if settings.redis_url or settings.redis_sentinel:
        named[DEFAULT_INSTANCE] = settings
    for name, url in (item.split("=", 1) for item in settings.redis_instances):
        named[name] = settings.model_copy(
            update={"redis_url": url, "redis_sentinel": (), "redis_master_name": None, "redis_instances": ()}
        )
    return named


def instance_services(settings: Settings, connection: redis.Redis | None = None) -> Instances:
    """One JobService per instance. The default is `connection` when given (tests, demo mode),
    else --redis-url or --redis-sentinel, else the first --redis item. Each 503 names its
    instance only when there are several, so a single-instance gateway answers as before."""
    from gateway.redis_settings import connect
    from gateway.services import Instances, JobService

    connections: dict[str, redis.Redis] = {}
    if connection is not None:
        connections[DEFAULT_INSTANCE] = connection
    for name, alone in instance_settings(settings).items():
        if name not in connections:
            connections[name] = connect(alone)
    several = len(connections) > 1
    return Instances(
        {
            name: JobService(
                client,
                default_queue=settings.default_queue,
                serializer=settings.serializer,
                instance=name if several else None,
            )
            for name, client in connections.items()
        }
    )
