"""The CLI's security side: the secure-by-default start-up rule, key options and `keys create`."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from gateway.apikeys import hash_key, load_keys
from gateway.app import create_app
from gateway.cli import main
from gateway.cli_options import option_name
from gateway.config import Settings
from tests.keyed import API_KEYS
from tests.test_config import NON_DEFAULTS
from tests.tls_files import make_tls_files

REDIS = "redis://127.0.0.1:1/0"  # never contacted: uvicorn.run is replaced


@pytest.fixture
def served(monkeypatch):
    """Calls to uvicorn.run (each one means the server would have started), with the app."""
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    # Set, then delete: monkeypatch then restores each variable, also those the CLI exports.
    for option in main.commands["serve"].params:
        monkeypatch.setenv(option.envvar, "")
        monkeypatch.delenv(option.envvar)
    return calls


def run(*args, env=None):
    return CliRunner().invoke(main, ["serve", *args], env=env)


def test_a_public_address_without_keys_refuses_to_start(served):
    result = run("--redis-url", REDIS, "--host", "0.0.0.0")
    assert result.exit_code == 2 and served == []
    assert "Refusing to serve 0.0.0.0 without API keys" in result.output
    assert "rq-gateway keys create --name admin --role admin" in result.output
    assert "--api-keys-file" in result.output and "--allow-anonymous" in result.output


@pytest.mark.parametrize(
    "args, env",
    [
        (["--host", "127.0.0.1"], None),
        (["--host", "::1"], None),
        (["--host", "localhost"], None),
        (["--host", "0.0.0.0", "--allow-anonymous"], None),
        (["--host", "0.0.0.0"], {"RQ_GATEWAY_ALLOW_ANONYMOUS": "1"}),
        (["--host", "0.0.0.0", "--api-keys", API_KEYS[0].line()], None),
        (["--host", "0.0.0.0"], {"RQ_GATEWAY_API_KEYS": API_KEYS[0].line()}),
    ],
)
def test_loopback_keys_or_an_explicit_opt_out_start(served, args, env):
    result = run("--redis-url", REDIS, *args, env=env)
    assert result.exit_code == 0, result.output
    assert len(served) == 1


def test_demo_mode_serves_anonymously_on_any_address(served):
    result = run("--host", "0.0.0.0")
    assert result.exit_code == 0, result.output
    ((app, _),) = served
    assert TestClient(app).get("/api/v1/jobs/stats").status_code == 200


def test_a_keys_file_configures_the_served_app(served, tmp_path):
    keys_file = tmp_path / "keys"
    keys_file.write_text("# on-call\n" + "\n".join(key.line() for key in API_KEYS) + "\n")
    result = run("--redis-url", REDIS, "--host", "0.0.0.0", env={"RQ_GATEWAY_API_KEYS_FILE": str(keys_file)})
    assert result.exit_code == 0, result.output
    ((app, _),) = served
    assert app.state.keyring.keys == API_KEYS


def test_a_bad_keys_entry_is_a_usage_error_that_does_not_echo_it(served, tmp_path):
    pasted = "rqg_someone-pasted-the-key-itself"
    result = run("--redis-url", REDIS, "--api-keys", f"ops:admin:{pasted}")
    assert result.exit_code == 2 and served == []
    assert "RQ_GATEWAY_API_KEYS, entry 1: the third field must be the key's SHA-256" in result.output
    assert pasted not in result.output
    missing = run("--redis-url", REDIS, "--api-keys-file", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "cannot read API keys file" in missing.output


def test_keys_create_prints_a_working_key_once_and_its_line(conn):
    result = CliRunner().invoke(
        main, ["keys", "create", "--name", "oncall", "--role", "operator", "--queues", "billing-*,reports"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    key, line = lines[1], lines[3]
    assert key.startswith("rqg_") and len(key) > 40
    assert line == f"oncall:operator:{hash_key(key)}:billing-*,reports"
    assert result.output.count(key) == 1
    app = create_app(Settings(redis_url="redis://unused", api_keys=load_keys(None, line)), connection=conn)
    client = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    conn.sadd("rq:queues", "rq:queue:billing-eu")
    assert client.get("/api/v1/jobs/stats?queue=billing-eu").status_code == 200
    assert client.get("/api/v1/jobs/stats?queue=default").status_code == 403
    other = CliRunner().invoke(main, ["keys", "create", "--name", "oncall", "--role", "operator"])
    assert other.output.splitlines()[1] != key, "every key is new"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--name", "bad name", "--role", "admin"], "the name must be"),
        (["--name", "ok", "--role", "root"], "Invalid value for '--role'"),
        (["--name", "ok", "--role", "admin", "--queues", "a\tb"], "invalid queue pattern"),
    ],
)
def test_keys_create_refuses_bad_input(args, message):
    result = CliRunner().invoke(main, ["keys", "create", *args])
    assert result.exit_code == 2 and message in result.output


def _topologies(tmp_path) -> list[dict]:
    """Two sets of non-default values that together cover every field: a TLS URL with its files,
    and Sentinel (which takes the place of the URL, so the two cannot share one command line)."""
    tls = make_tls_files(tmp_path / "tls")
    with_tls = {
        **NON_DEFAULTS,
        "redis_url": "rediss://gw:pw@127.0.0.1:1/0",
        "redis_ca_file": str(tls.ca),
        "redis_cert_file": str(tls.client_cert),
        "redis_key_file": str(tls.client_key),
        "redis_instances": "b=rediss://127.0.0.1:3/0",
        "oidc_issuer": "https://id.example.com",
        "oidc_audience": "rq-gateway",
        "oidc_role_claim": "groups",
        "oidc_roles": "rq-admins=admin;billing=operator:billing-*",
        "oidc_algorithms": "ES256",
        "oidc_client_id": "rq-gateway",
        "oidc_scopes": "openid groups",
    }
    with_sentinel = {k: v for k, v in NON_DEFAULTS.items() if k != "redis_url"}
    with_sentinel |= {
        "redis_sentinel": "127.0.0.1:1,127.0.0.1:2",
        "redis_master_name": "mymaster",
        "redis_sentinel_password": "sp",
    }
    # A settings file: its values reach the workers as variables, the file itself does not.
    settings_file = tmp_path / "rq-gateway.toml"
    settings_file.write_text("graphql_max_depth = 4\n")
    with_sentinel["config"] = str(settings_file)
    return [with_tls, with_sentinel]


def test_worker_processes_rebuild_the_same_settings(served, tmp_path):
    """Every field, given on the command line, reaches the worker processes' `Settings()`."""
    keys_file = tmp_path / "keys"
    keys_file.write_text(API_KEYS[0].line() + "\n")
    topologies = _topologies(tmp_path)
    assert set().union(*topologies) | {"api_keys_file", "api_keys"} == set(Settings.model_fields), (
        "a new field needs a value here"
    )
    for topology in topologies:
        for option in main.commands["serve"].params:  # the variables the previous run exported
            os.environ.pop(option.envvar, None)  # (restored after the test by `served`)
        values = {**topology, "api_keys_file": str(keys_file), "api_keys": API_KEYS[1].line()}
        args = []
        for field, value in values.items():
            args += [option_name(field)] if value is True else [option_name(field), str(value)]
        result = CliRunner().invoke(main, ["serve", *args])
        assert result.exit_code == 0, result.output
        ((app, kwargs),) = served
        served.clear()
        assert app == "gateway.cli:app_from_env" and kwargs["workers"] == NON_DEFAULTS["workers"]
        rebuilt = Settings()  # what each worker process's factory builds from the exported variables
        assert rebuilt == Settings(**values).model_copy(update={"api_keys_file": None, "config": None})
        assert rebuilt.api_keys == (API_KEYS[0], API_KEYS[1]), "the parent read the file; workers do not"
