"""The serializer setting, checked by importing it as RQ would (domain/ imports no rq)."""

from __future__ import annotations

from rq.serializers import resolve_serializer

from gateway.errors import InvalidParameter


def validate_serializer(path: str | None) -> str | None:
    """A dotted path to an RQ serializer (as `rq worker --serializer` takes), or None for RQ's."""
    if path:
        try:
            resolve_serializer(path)
        except Exception:
            raise InvalidParameter(f"Cannot import serializer {path!r}") from None
    return path
