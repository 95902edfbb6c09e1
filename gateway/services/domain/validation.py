"""Input checks done before Redis is touched, so a hostile value never addresses another key."""

from __future__ import annotations

import re

from gateway.errors import InvalidJobId, InvalidParameter

# RQ's own id pattern. RQ sets no length limit; ours only stops absurd inputs.
MAX_NAME_LENGTH = 512
JOB_ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_NAME_LENGTH}}}")
# RQ accepts any queue name it can encode ('emails/high', 'ünï', 'a b*'); the gateway accepts
# them too. A key is always one fixed prefix + the whole name, and no name ever becomes a SCAN or
# KEYS pattern, so a name addresses only its own queue's keys whatever characters it holds. Refused:
# the empty name (a forgotten `?queue=` value, not a queue), control characters (never meant, and
# they corrupt logs and headers) and lone surrogates (not UTF-8, so Redis cannot store them).
QUEUE_NAME_PATTERN = re.compile(rf"[^\x00-\x1f\x7f-\x9f\ud800-\udfff]{{1,{MAX_NAME_LENGTH}}}")
# The same rule for OpenAPI (ECMA regex): without the surrogate range, which ECMA would apply to
# the UTF-16 halves of every emoji.
DOCUMENTED_QUEUE_NAME_PATTERN = rf"^[^\x00-\x1f\x7f-\x9f]{{1,{MAX_NAME_LENGTH}}}$"
# A registry member: a job id, or in the started registry RQ's "job_id:execution_id".
REGISTRY_MEMBER_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_NAME_LENGTH}}}(:[A-Za-z0-9_-]{{1,64}})?")
# Jobs (or audit records) per page: bounds one answer's memory and one request's Redis time.
MAX_PAGE_SIZE = 1000
# Scores as Redis prints them: integers, decimals, exponents, and +/-inf.
SCORE_PATTERN = re.compile(r"[-+]?(inf|[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)")


def validate_job_id(job_id: str) -> str:
    """RQ ids match [A-Za-z0-9_-]+; anything else could address a different key (e.g. 'a:b')."""
    if not JOB_ID_PATTERN.fullmatch(job_id):
        raise InvalidJobId(job_id)
    return job_id


def validate_queue_name(name: str) -> str:
    if QUEUE_NAME_PATTERN.fullmatch(name):
        return name
    raise InvalidParameter(f"Invalid queue name {_shown(name)}: {_why_not(name)}")


def _shown(name: str) -> str:
    return repr(name if len(name) <= 80 else name[:80] + "...")


def _why_not(name: str) -> str:
    if not name:
        return "a queue name cannot be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"a queue name has at most {MAX_NAME_LENGTH} characters (this one has {len(name)})"
    position, char = next((i, c) for i, c in enumerate(name) if not QUEUE_NAME_PATTERN.fullmatch(c))
    kind = "a lone surrogate (not UTF-8)" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"character {position + 1} is {kind}, U+{ord(char):04X}, which queue names may not contain"


def validate_page_size(first: int) -> int:
    """A page's `first` (or `limit`): 0 asks for the total alone."""
    if first < 0 or first > MAX_PAGE_SIZE:
        raise InvalidParameter(f"first must be between 0 and {MAX_PAGE_SIZE}")
    return first


def validate_search_size(size: int) -> int:
    """A search page's size, 1 to MAX_PAGE_SIZE: a search page cannot ask for the total alone,
    it has none. Named `first`, as GraphQL's searchJobs calls it, since only GraphQL reaches this
    check: FastAPI refuses a REST `limit` outside the same bounds first."""
    if size < 1 or size > MAX_PAGE_SIZE:
        raise InvalidParameter(f"first must be between 1 and {MAX_PAGE_SIZE}")
    return size


def is_score(text: str) -> bool:
    return SCORE_PATTERN.fullmatch(text) is not None


_NAME = re.compile(DOCUMENTED_QUEUE_NAME_PATTERN)


def validate_name(name: str, what: str) -> str:
    """A worker or job group name (issue 15), by the rule of queue names: 1 to 512 characters,
    none of them a control character (C0, DEL or C1). The OpenAPI documents the same pattern."""
    if not _NAME.fullmatch(name):
        limits = f"1 to {MAX_NAME_LENGTH} characters without control characters"
        raise InvalidParameter(f"Invalid {what} name: {limits}")
    return name
