"""Settings from one place: every field read from its variable, overridden by its option, refused
with its name and the form expected, documented in the README, and handed to worker processes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway.cli import main
from gateway.cli_options import option_name
from gateway.config import Settings, describe_refusal, env_name, environment, expected_form
from tests.keyed import API_KEYS

README = Path(__file__).resolve().parent.parent / "README.md"

# A value other than the default for every field but the keys file (which needs a file).
NON_DEFAULTS = {
    "redis_url": "redis://127.0.0.1:1/0",
    "host": "0.0.0.0",
    "port": 8123,
    "workers": 3,
    "default_queue": "reports",
    "redis_timeout": 3.5,
    "redis_connect_timeout": 0.75,
    "serializer": "rq.serializers.JSONSerializer",
    "log_level": "warning",
    "api_keys": ";".join(key.line() for key in API_KEYS),
    "allow_anonymous": True,
    "hide_payloads": True,
    "search_scan_limit": 2500,
    "cors_origins": "https://a.example,https://b.example",
    "audit_maxlen": 50,
    "max_body_size": 4096,
    "graphql_max_depth": 5,
    "graphql_max_aliases": 6,
    "graphql_max_tokens": 700,
    "graphql_max_cost": 1234,
    "no_graphiql": True,
    "no_introspection": True,
    "no_ui": True,
    "max_websocket_connections": 7,
    "max_subscriptions_per_connection": 3,
    "log_format": "json",
    "metrics_public": True,
    "history_retention": 3600,
    "history_interval": 2.5,
    "history_lease": 9.0,
    "no_history": True,
    "bulk_max_rate": 250.0,
}


@pytest.fixture
def clean_env(monkeypatch):
    """No setting variable set; set-then-delete makes monkeypatch restore whatever a test writes."""
    for field in Settings.model_fields:
        monkeypatch.setenv(env_name(field), "")
        monkeypatch.delenv(env_name(field))
    return monkeypatch


@pytest.fixture
def served(clean_env):
    """Settings each `serve` would have started with (uvicorn.run is replaced)."""
    import uvicorn

    calls = []
    clean_env.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(app.state.settings))
    return calls


def serve(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["serve", *args], env=env)


def test_every_field_is_read_from_its_variable(clean_env):
    for field, value in NON_DEFAULTS.items():
        clean_env.setenv(env_name(field), "true" if value is True else str(value))
    assert Settings() == Settings(**NON_DEFAULTS)
    assert Settings() != Settings.model_construct()


def test_the_documented_variable_names_are_read(clean_env):
    """The names are an interface: REDIS_URL (no prefix), RQ_GATEWAY_* for the others."""
    clean_env.setenv("REDIS_URL", "redis://h:1/2")
    clean_env.setenv("RQ_GATEWAY_DEFAULT_QUEUE", "reports")
    clean_env.setenv("RQ_GATEWAY_NO_GRAPHIQL", "1")
    clean_env.setenv("rq_gateway_port", "9")  # not a documented name: ignored
    settings = Settings()
    assert (settings.redis_url, settings.default_queue, settings.graphiql) == (
        "redis://h:1/2",
        "reports",
        False,
    )
    assert settings.port == 8000


def test_option_beats_variable_beats_default(served):
    env = {"RQ_GATEWAY_DEFAULT_QUEUE": "from-env", "RQ_GATEWAY_AUDIT_MAXLEN": "7"}
    assert serve("--default-queue", "from-cli", env=env).exit_code == 0
    (settings,) = served
    assert settings.default_queue == "from-cli", "the option wins"
    assert settings.audit_maxlen == 7, "the variable wins over the default"
    assert settings.graphql_max_cost == 40_000, "the default otherwise"


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("RQ_GATEWAY_REDIS_TIMEOUT", "abc", "RQ_GATEWAY_REDIS_TIMEOUT=abc: expected a number of seconds"),
        ("RQ_GATEWAY_REDIS_CONNECT_TIMEOUT", "-1", "=-1: expected a number of seconds"),
        ("RQ_GATEWAY_REDIS_TIMEOUT", "nan", "RQ_GATEWAY_REDIS_TIMEOUT=nan: expected a number of seconds"),
        ("RQ_GATEWAY_HIDE_PAYLOADS", "ture", "RQ_GATEWAY_HIDE_PAYLOADS=ture: expected 1, true, yes or on"),
        ("RQ_GATEWAY_NO_GRAPHIQL", "ture", "RQ_GATEWAY_NO_GRAPHIQL=ture: expected 1, true, yes or on"),
        ("RQ_GATEWAY_PORT", "80a", "RQ_GATEWAY_PORT=80a: expected a TCP port number, 0-65535"),
        ("RQ_GATEWAY_WORKERS", "0", "RQ_GATEWAY_WORKERS=0: expected a whole number, at least 1"),
        (
            "RQ_GATEWAY_AUDIT_MAXLEN",
            "1e3",
            "RQ_GATEWAY_AUDIT_MAXLEN=1e3: expected a whole number, at least 0",
        ),
        ("RQ_GATEWAY_LOG_LEVEL", "loud", "RQ_GATEWAY_LOG_LEVEL=loud: expected one of critical, error"),
        # Any name RQ accepts is valid ('a/b' too); a control character is not.
        ("RQ_GATEWAY_DEFAULT_QUEUE", "a\tb", "RQ_GATEWAY_DEFAULT_QUEUE: Invalid queue name 'a\\tb'"),
        ("RQ_GATEWAY_SERIALIZER", "no.such.S", "RQ_GATEWAY_SERIALIZER: Cannot import serializer"),
        ("RQ_GATEWAY_API_KEYS_FILE", "/nonexistent", "RQ_GATEWAY_API_KEYS_FILE: cannot read API keys file"),
    ],
)
def test_a_bad_variable_is_refused_at_start_up_by_name(served, variable, value, message):
    result = serve("--redis-url", NON_DEFAULTS["redis_url"], env={variable: value})
    assert result.exit_code == 2 and served == []
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_a_bad_option_is_refused_under_the_option_name(served):
    result = serve("--redis-timeout", "0", env={"RQ_GATEWAY_REDIS_TIMEOUT": "1"})
    assert result.exit_code == 2 and served == []
    assert "--redis-timeout=0.0: expected a number of seconds" in result.output


def test_a_pasted_key_is_refused_without_echoing_it(served):
    pasted = "rqg_someone-pasted-the-key-itself"
    result = serve(env={"RQ_GATEWAY_API_KEYS": f"ops:admin:{pasted}"})
    assert result.exit_code == 2
    assert "RQ_GATEWAY_API_KEYS, entry 1: the third field must be the key's SHA-256" in result.output
    assert pasted not in result.output


@pytest.mark.parametrize(
    "text, value",
    [(t, True) for t in ("1", "true", "TRUE", "yes", "on", "t", "y")]
    + [(t, False) for t in ("0", "false", "no", "off", "f", "n", "")],
)
def test_flags_read_the_booleans_click_read(clean_env, text, value):
    clean_env.setenv("RQ_GATEWAY_HIDE_PAYLOADS", text)
    assert Settings().hide_payloads is value


# Not the free-text ones, nor the serializer: checking it imports the named module.
SCALARS = [f for f in Settings.model_fields if f not in ("redis_url", "host", "serializer", "api_keys_file")]
# Checked together (tests/test_redis_settings.py): a refusal names all of them, each as its option
# and its variable. The instances are checked with the topology too (their URLs, the default's name).
TOGETHER = {
    "redis_instances",
    "redis_sentinel",
    "redis_master_name",
    "redis_sentinel_password",
    "redis_ca_file",
    "redis_cert_file",
    "redis_key_file",
    "oidc_issuer",
    "oidc_audience",
    "oidc_roles",
    "oidc_algorithms",
    "oidc_client_id",
}


@given(field=st.sampled_from(SCALARS), text=st.text(min_size=1, max_size=12).filter(lambda t: "\0" not in t))
def test_any_value_is_either_read_or_refused_by_name(field, text):
    """The class, not the instances: whatever a variable holds, Settings reads it or the refusal
    names the variable, the value and the form expected; nothing else escapes."""
    try:
        Settings.model_validate({env_name(field): text})
    except ValidationError as error:
        refusal = describe_refusal(error, {})
        named = refusal.startswith(env_name(field))
        assert named or (field in TOGETHER and env_name(field) in refusal.split(": ")[0]), refusal
        if error.errors()[0]["type"] != "value_error":
            assert refusal == f"{env_name(field)}={text}: expected {expected_form(field)}"


def test_exported_variables_read_back_as_the_same_settings(clean_env):
    settings = Settings(**NON_DEFAULTS)
    for name, value in environment(settings).items():
        if value is not None:
            clean_env.setenv(name, value)
    assert Settings() == settings


def test_keyword_construction_keeps_working():
    settings = Settings(redis_url="redis://unused", api_keys=API_KEYS, graphiql=False, introspection=False)
    assert settings.api_keys == API_KEYS and not settings.graphiql and not settings.introspection
    assert Settings(no_graphiql=True) == Settings(graphiql=False)
    with pytest.raises(ValidationError):
        Settings(redis_timeout="soon")
    with pytest.raises(ValidationError):
        Settings(no_such_setting=1)


def test_settings_are_frozen():
    with pytest.raises(ValidationError):
        Settings().port = 1


def _readme_rows() -> dict[str, tuple[str, str]]:
    """{option: (variable, default cell)} from the README's configuration table."""
    table = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(--[a-z-]+)` \| `([A-Z_]+)` \| ([^|]+) \|", table, flags=re.M)
    return {option: (variable, default.strip()) for option, variable, default in rows}


def test_every_setting_has_an_option_a_variable_and_a_readme_row():
    options = {param.opts[0]: param for param in main.commands["serve"].params}
    rows = _readme_rows()
    assert set(options) == {option_name(field) for field in Settings.model_fields}
    for field, info in Settings.model_fields.items():
        option, variable = option_name(field), env_name(field)
        assert options[option].envvar == variable, field
        assert rows[option][0] == variable, field
        default = rows[option][1]
        if isinstance(info.default, bool):
            assert default == "off", field
        elif isinstance(info.default, (int, float, str)):
            assert default == f"`{info.default}`", field
