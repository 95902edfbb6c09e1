"""gateway/apikeys.py: the keys format, its refusals (which never echo a line), and how a request's
`Authorization` header becomes a Principal."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway import apikeys
from gateway.apikeys import (
    KEY_PREFIX,
    ApiKey,
    KeyConfigError,
    KeyRing,
    hash_key,
    load_keys,
    new_key,
    parse_keys,
)
from gateway.services.principal import Principal, Role
from gateway.services.refusals import INVALID_KEY, MISSING_KEY
from tests.keyed import API_KEYS, keyed_client

DIGEST = hash_key("rqg_some-key")
ANONYMOUS = Principal(name="anonymous", role=Role.ADMIN)


def test_new_keys_are_random_prefixed_and_hashed_with_sha256():
    first, second = new_key(), new_key()
    assert first != second
    assert first.startswith(KEY_PREFIX) and len(first) > len(KEY_PREFIX) + 40
    assert hash_key(first) == hashlib.sha256(first.encode()).hexdigest()


def test_a_keys_text_skips_comments_and_blank_lines_and_splits_on_newlines_and_semicolons():
    text = (
        f"# on-call keys\n\n  ci:viewer:{DIGEST}  ;oncall:OPERATOR:{DIGEST.upper()}:billing-*, emails/high\n"
    )
    assert parse_keys(text, "test") == [
        ApiKey("ci", Role.VIEWER, DIGEST),
        ApiKey("oncall", Role.OPERATOR, DIGEST, ("billing-*", "emails/high")),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("ci:viewer", "expected NAME:ROLE:SHA256_HEX[:PATTERNS]"),
        (f"c i:viewer:{DIGEST}", "the name must be 1-64 letters"),
        (f"{'n' * 65}:viewer:{DIGEST}", "the name must be 1-64 letters"),
        (f"ci:root:{DIGEST}", "unknown role 'root'; use viewer, operator or admin"),
        ("ci:viewer:rqg_the-key-itself-pasted-here", "the third field must be the key's SHA-256"),
        (f"ci:viewer:{DIGEST}:bad\x01pattern", "invalid queue pattern"),
    ],
)
def test_a_bad_entry_is_refused_by_number_without_echoing_it(line, reason):
    with pytest.raises(KeyConfigError) as refused:
        parse_keys(f"# header\nok:admin:{DIGEST}\n{line}", "keys.txt")
    message = str(refused.value)
    assert message.startswith("keys.txt, entry 3: ") and reason in message
    assert "rqg_the-key-itself" not in message, "a pasted key must not reach logs or the terminal"


names = st.from_regex(r"[A-Za-z0-9_.@-]{1,64}", fullmatch=True)
patterns = st.lists(st.from_regex(r"[A-Za-z0-9_*?\[\]./:-]{1,20}", fullmatch=True), max_size=3)


@given(names, st.sampled_from(Role), st.binary(min_size=1), patterns)
def test_a_keys_line_reads_back_as_the_same_key(name, role, secret, queues):
    key = ApiKey(name, role, hashlib.sha256(secret).hexdigest(), tuple(queues))
    assert parse_keys(key.line(), "line") == [key]


def test_keys_load_from_the_file_and_the_variable_together(tmp_path):
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"from-file:admin:{DIGEST}\n")
    keys = load_keys(str(keys_file), f"from-env:viewer:{DIGEST}")
    assert [(key.name, key.role) for key in keys] == [("from-file", Role.ADMIN), ("from-env", Role.VIEWER)]
    assert load_keys(None, None) == ()


def test_an_unreadable_file_and_duplicate_names_are_refused(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(KeyConfigError, match=f"cannot read API keys file {re.escape(str(missing))}: "):
        load_keys(str(missing), None)
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"ci:admin:{DIGEST}\nb:viewer:{DIGEST}\n")
    with pytest.raises(KeyConfigError, match="duplicate API key names: b, ci"):
        load_keys(str(keys_file), f"ci:viewer:{DIGEST};b:viewer:{DIGEST}")


def test_without_keys_every_request_is_the_anonymous_principal():
    ring = KeyRing()
    assert ring.anonymous
    assert ring.principal(None, ANONYMOUS) is ANONYMOUS
    assert ring.principal("Bearer anything", ANONYMOUS) is ANONYMOUS


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "rqg_key"])
def test_a_request_without_a_bearer_key_is_refused_as_missing(header):
    principal = KeyRing(API_KEYS).principal(header, ANONYMOUS)
    assert (principal.name, principal.role, principal.refusal) == ("anonymous", None, MISSING_KEY)


def test_an_unknown_key_is_refused_as_invalid():
    principal = KeyRing(API_KEYS).principal("Bearer rqg_not-a-configured-key", ANONYMOUS)
    assert (principal.name, principal.role, principal.refusal) == ("anonymous", None, INVALID_KEY)


def test_a_known_key_is_its_name_role_and_queue_patterns():
    ring = KeyRing(
        [ApiKey("ci", Role.VIEWER, hash_key("rqg_a")), ApiKey("b", Role.OPERATOR, DIGEST, ("b-*",))]
    )
    assert ring.principal("bearer  rqg_some-key ", ANONYMOUS) == Principal("b", Role.OPERATOR, ("b-*",))
    assert ring.principal("Bearer rqg_a", ANONYMOUS) == Principal("ci", Role.VIEWER)


def test_keys_are_compared_in_constant_time_against_every_key(conn, monkeypatch):
    calls = []
    real = apikeys.hmac.compare_digest

    def counting(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(apikeys.hmac, "compare_digest", counting)
    client = keyed_client(conn, "viewer")
    assert client.get("/api/v1/jobs/stats").status_code == 200
    assert len(calls) == len(API_KEYS), "every configured key is compared, even after a match"
    assert {b for _, b in calls} == {key.digest for key in API_KEYS}
