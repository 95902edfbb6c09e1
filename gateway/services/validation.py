"""Input checks done before Redis is touched, so a hostile value never addresses another key."""

from __future__ import annotations

import re

from rq.serializers import resolve_serializer

from gateway.errors import InvalidJobId, InvalidParameter

# RQ's own id pattern. RQ sets no length limit; ours only stops absurd inputs.
MAX_NAME_LENGTH = 512
JOB_ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_NAME_LENGTH}}}")
# RQ allows any queue name; these characters cover real deployments ('high', 'emails.v2',
# 'tenant:42') while keeping spaces, slashes, wildcards and control characters out of keys.
QUEUE_NAME_PATTERN = re.compile(rf"[A-Za-z0-9_.:-]{{1,{MAX_NAME_LENGTH}}}")
# A registry member: a job id, or in the started registry RQ's "job_id:execution_id".
REGISTRY_MEMBER_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_NAME_LENGTH}}}(:[A-Za-z0-9_-]{{1,64}})?")
# Scores as Redis prints them: integers, decimals, exponents, and +/-inf.
SCORE_PATTERN = re.compile(r"[-+]?(inf|[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)")


def validate_job_id(job_id: str) -> str:
    """RQ ids match [A-Za-z0-9_-]+; anything else could address a different key (e.g. 'a:b')."""
    if not JOB_ID_PATTERN.fullmatch(job_id):
        raise InvalidJobId(job_id)
    return job_id


def validate_queue_name(name: str) -> str:
    if not QUEUE_NAME_PATTERN.fullmatch(name):
        raise InvalidParameter(
            f"Invalid queue name {name[:80]!r}: use letters, digits, '.', ':', '-' and '_' "
            f"(at most {MAX_NAME_LENGTH})"
        )
    return name


def is_score(text: str) -> bool:
    return SCORE_PATTERN.fullmatch(text) is not None


def validate_serializer(path: str | None) -> str | None:
    """A dotted path to an RQ serializer (as `rq worker --serializer` takes), or None for RQ's."""
    if path:
        try:
            resolve_serializer(path)
        except Exception:
            raise InvalidParameter(f"Cannot import serializer {path!r}") from None
    return path
