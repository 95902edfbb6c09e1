"""Queue statistics in one pipelined round trip, constant in the size of the registries."""

from __future__ import annotations

from typing import Any

from redis import Redis
from redis.client import Pipeline

from gateway.errors import QueueNotFound
from gateway.services.domain.models import QueueStats
from gateway.services.reads import known
from gateway.services.redis import damaged, keys
from gateway.services.redis.registry import now_timestamp

_REGISTRIES = ("failed", "started", "finished", "deferred", "scheduled", "canceled")
# Scored by run, creation or cancel time rather than expiry, and never cleaned by score.
_SCORED_BY_TIME = ("scheduled", "deferred", "canceled")
# Replies count_commands adds to a pipeline.
COUNT_REPLIES = 1 + 2 * len(_REGISTRIES)


def queue_stats(connection: Redis, queue_name: str, must_exist: bool = False) -> QueueStats:
    """Counts leave out entries RQ's cleanup would delete (score in [0, now]) without deleting them.

    Scheduled, deferred and canceled registries are counted whole (see _SCORED_BY_TIME). With
    `must_exist`, QueueNotFound when RQ does not know the queue (services/reads/known.py), decided in the
    same round trip: the counts already tell whether the queue and registry keys exist."""
    with connection.pipeline(transaction=must_exist) as pipe:
        count_commands(pipe, queue_name, now_timestamp())
        if must_exist:
            known.membership_commands(pipe, queue_name)
        replies = damaged.execute(pipe)
    if must_exist and not known.is_known(replies[COUNT_REPLIES:] + _key_counts(replies)):
        raise QueueNotFound(queue_name)
    return stats_from(queue_name, replies)


def _key_counts(replies: list[Any]) -> list[Any]:
    # LLEN and each ZCARD: Redis deletes an empty list or sorted set, so 0 means no key.
    return [replies[0], *replies[1:COUNT_REPLIES:2]]


def count_commands(pipe: Pipeline, queue_name: str, now: int) -> None:
    """Queue the COUNT_REPLIES reads of one queue's counts, for stats_from. The name may be a
    damaged.internal() one: the keys are the exact bytes Redis holds."""
    pipe.llen(damaged.key_bytes(keys.queue_key(queue_name)))
    for state in _REGISTRIES:
        key = damaged.key_bytes(keys.registry_key(state, queue_name))
        pipe.zcard(key)
        pipe.zcount(key, 0, now)


def stats_from(queue_name: str, replies: list[Any]) -> QueueStats:
    """Counts from count_commands' replies, run through damaged.execute: a key of the wrong type
    counts as empty."""
    replies = [reply or 0 for reply in replies]
    counts = {}
    for index, state in enumerate(_REGISTRIES):
        card, expired = replies[1 + 2 * index], replies[2 + 2 * index]
        counts[state] = card if state in _SCORED_BY_TIME else card - expired
    return QueueStats(
        queue_name=damaged.shown_name(queue_name),
        queued_count=replies[0],
        failed_count=counts["failed"],
        started_count=counts["started"],
        finished_count=counts["finished"],
        deferred_count=counts["deferred"],
        scheduled_count=counts["scheduled"],
        canceled_count=counts["canceled"],
    )
