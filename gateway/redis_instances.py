"""`--redis NAME=URL` (repeatable) / RQ_GATEWAY_REDIS_INSTANCES: several Redis instances in one
gateway. The variable holds a JSON object `{"NAME": "URL", ...}` or a comma-separated list of
NAME=URL (a comma splits only before `NAME=`, so a redis+sentinel:// host list stays whole).

The default instance is `--redis-url` (named `default`) when given, else the first of these.
Timeouts and TLS files apply to every instance."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis

    from gateway.config import Settings
    from gateway.services import Instances

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SPLIT = re.compile(r",\s*(?=[A-Za-z0-9_-]{1,64}=)")
DEFAULT_INSTANCE = "default"


def parse_instances(value: Any) -> tuple[str, ...]:
    """NAME=URL items, checked: names unique and well formed, each with a URL."""
    if isinstance(value, Mapping):  # a settings file's table of NAME = URL
        if not all(isinstance(url, str) for url in value.values()):
            raise ValueError("expected a table of NAME = URL")
        value = [f"{name}={url}" for name, url in value.items()]
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


def serialize_instances(items: tuple[str, ...]) -> str:
    """As JSON, which reads back whatever the URLs hold."""
    return json.dumps(dict(item.split("=", 1) for item in items))


def instance_services(settings: Settings, connection: redis.Redis | None = None) -> Instances:
    """One JobService per instance. The default is `connection` when given (tests, demo mode),
    else --redis-url or --redis-sentinel, else the first --redis item. Each 503 names its
    instance only when there are several, so a single-instance gateway answers as before."""
    from gateway.config import connect
    from gateway.services import Instances, JobService

    urls = dict(item.split("=", 1) for item in settings.redis_instances)
    connections: dict[str, redis.Redis] = {}
    if connection is not None or settings.redis_url or settings.redis_sentinel:
        connections[DEFAULT_INSTANCE] = connection or connect(settings)
    for name, url in urls.items():
        # The instance's own URL, with the shared timeouts and TLS files.
        alone = settings.model_copy(
            update={"redis_url": url, "redis_sentinel": (), "redis_master_name": None, "redis_instances": ()}
        )
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
