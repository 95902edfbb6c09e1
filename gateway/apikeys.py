"""API keys: the config format, hashing, and turning an `Authorization` header into a Principal.

One key per line, in a file (`--api-keys-file`) or in `--api-keys` / RQ_GATEWAY_API_KEYS (lines
separated by newlines or `;`):

    NAME:ROLE:SHA256_HEX[:PATTERN,PATTERN...]

    ci-dashboard:viewer:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    billing-oncall:operator:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752:billing-*

Blank lines and lines starting with `#` are ignored. Patterns are fnmatch-style queue-name
patterns (`*`, `?`, `[...]`); without them the key may access every queue.

Why plain SHA-256 and no salt: the keys are 256-bit random strings from `keys create`, so
guessing one from its hash is infeasible whatever the hash speed, and salting (or a slow hash)
only defends low-entropy secrets such as passwords. An unsalted digest also lets a request be
matched with one hash computation. Write only generated keys into this file."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gateway.services import INVALID_KEY, MISSING_KEY, Principal, Role

KEY_PREFIX = "rqg_"
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
# Any queue name is a pattern of itself, so patterns take what queue names take (services/
# validation.py), less ',' and ';', which separate patterns and keys.
_PATTERN = re.compile(r"[^\x00-\x1f\x7f-\x9f,;]{1,512}")


class KeyConfigError(ValueError):
    """A keys file or variable that cannot be used; the message names the line."""


@dataclass(frozen=True)
class ApiKey:
    name: str
    role: Role
    digest: str  # SHA-256 hex of the key
    queues: tuple[str, ...] = ()

    def line(self) -> str:
        fields = [self.name, self.role.label, self.digest]
        if self.queues:
            fields.append(",".join(self.queues))
        return ":".join(fields)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A random key; the prefix lets secret scanners recognise a leaked one."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def parse_patterns(text: str) -> tuple[str, ...]:
    patterns = tuple(p.strip() for p in text.split(",") if p.strip())
    for pattern in patterns:
        if not _PATTERN.fullmatch(pattern):
            raise KeyConfigError(f"invalid queue pattern {pattern!r}")
    return patterns


def parse_keys(text: str, source: str) -> list[ApiKey]:
    keys = []
    for number, raw in enumerate(re.split(r"[\n;]", text), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            keys.append(_parse_line(line))
        except KeyConfigError as error:
            # The line is not echoed: someone may have pasted a key instead of its hash.
            raise KeyConfigError(f"{source}, entry {number}: {error}") from None
    return keys


def _parse_line(line: str) -> ApiKey:
    parts = line.split(":", 3)
    if len(parts) < 3:
        raise KeyConfigError("expected NAME:ROLE:SHA256_HEX[:PATTERNS]")
    name, role, digest = (part.strip() for part in parts[:3])
    if not _NAME.fullmatch(name):
        raise KeyConfigError("the name must be 1-64 letters, digits, '_', '.', '@' or '-'")
    if role.upper() not in Role.__members__:
        raise KeyConfigError(f"unknown role {role!r}; use viewer, operator or admin")
    if not _DIGEST.fullmatch(digest.lower()):
        raise KeyConfigError("the third field must be the key's SHA-256 in hex (64 characters), not the key")
    queues = parse_patterns(parts[3]) if len(parts) == 4 else ()
    return ApiKey(name, Role[role.upper()], digest.lower(), queues)


def load_keys(file: str | None, text: str | None) -> tuple[ApiKey, ...]:
    keys = []
    if file:
        try:
            content = Path(file).read_text()
        except OSError as error:
            raise KeyConfigError(f"cannot read API keys file {file}: {error.strerror}") from None
        keys += parse_keys(content, file)
    if text:
        keys += parse_keys(text, "RQ_GATEWAY_API_KEYS")
    names = [key.name for key in keys]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise KeyConfigError(f"duplicate API key names: {', '.join(duplicates)}")
    return tuple(keys)


class TokenVerifier(Protocol):
    def principal(self, token: str) -> Principal: ...


class KeyRing:
    """Looks up the key a request presents. Empty = anonymous mode (no keys configured)."""

    def __init__(self, keys: Iterable[ApiKey] = (), tokens: TokenVerifier | None = None):
        self.keys = tuple(keys)
        # Single sign-on (gateway/oidc.py): bearer JWTs go to it, keys stay as they are.
        self.tokens = tokens

    @property
    def anonymous(self) -> bool:
        return not self.keys and self.tokens is None

    def principal(self, authorization: str | None, anonymous: Principal) -> Principal:
        if self.anonymous:
            return anonymous
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return Principal(name="anonymous", role=None, refusal=MISSING_KEY)
        if self.tokens is not None and not presented.startswith(KEY_PREFIX) and presented.count(".") == 2:
            return self.tokens.principal(presented.strip())
        digest = hash_key(presented.strip())
        match = None
        # Compare with every key, in constant time, so timing tells nothing about near misses.
        for key in self.keys:
            if hmac.compare_digest(digest, key.digest):
                match = key
        if match is None:
            return Principal(name="anonymous", role=None, refusal=INVALID_KEY)
        return Principal(name=match.name, role=match.role, queues=match.queues)
