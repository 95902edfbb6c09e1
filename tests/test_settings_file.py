"""--config FILE (gateway/settings_file.py): any setting from a TOML or JSON file, by its name;
variables and options override the file setting by setting; a file that cannot be used is a
start-up refusal naming the file and the problem, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config import Settings, env_name
from tests import test_config
from tests.test_config import NON_DEFAULTS, serve

# test_config's fixtures: no variable set, and the settings `serve` would have started with.
clean_env = test_config.clean_env
served = test_config.served

# Both forms of a name: as the field, and as the option says it.
FIELDS = sorted(NON_DEFAULTS)


def variable_text(value: object) -> str:
    return "true" if value is True else str(value)


@given(
    in_file=st.sets(st.sampled_from(FIELDS)),
    in_env=st.sets(st.sampled_from(FIELDS)),
    dashed=st.booleans(),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60, deadline=None)
def test_the_environment_overrides_the_file_setting_by_setting(clean_env, tmp_path, in_file, in_env, dashed):
    """The class: for any settings in the file and any in the environment, each setting is the
    variable's value where one is set, else the file's, else the default."""
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps({(f.replace("_", "-") if dashed else f): NON_DEFAULTS[f] for f in in_file}))
    with pytest.MonkeyPatch.context() as env:
        for field in in_env:
            env.setenv(env_name(field), variable_text(NON_DEFAULTS[field]))
        from_file = Settings(config=str(path))
    assert from_file == Settings(config=str(path), **{f: NON_DEFAULTS[f] for f in in_file | in_env})
    for field in FIELDS:
        expected = NON_DEFAULTS[field] if field in in_file | in_env else Settings.model_fields[field].default
        assert getattr(from_file, field) == Settings(**{field: expected}).__getattribute__(field), field


def test_a_toml_file_with_instances_and_an_option_over_it(served, tmp_path):
    path = tmp_path / "gateway.toml"
    path.write_text(
        'redis_url = "redis://127.0.0.1:1/0"\nredis-timeout = 1.5\nport = 8123\n\n'
        '[redis_instances]\nbilling = "redis://127.0.0.1:2/0"\nha = "redis+sentinel://h1:26379,h2:26379/m/0"\n'
    )
    result = serve("--config", str(path), "--port", "9000", env={"RQ_GATEWAY_REDIS_TIMEOUT": "3"})
    assert result.exit_code == 0, result.output
    (settings,) = served
    assert (settings.redis_url, settings.redis_timeout, settings.port) == ("redis://127.0.0.1:1/0", 3.0, 9000)
    assert settings.redis_instances == (
        "billing=redis://127.0.0.1:2/0",
        "ha=redis+sentinel://h1:26379,h2:26379/m/0",
    )


def test_the_worker_processes_get_the_files_values_not_the_file(served, tmp_path, monkeypatch):
    from gateway.config import environment

    path = tmp_path / "gateway.toml"
    path.write_text('redis_url = "redis://127.0.0.1:1/0"\naudit_maxlen = 5\n')
    exported = environment(Settings(config=str(path)))
    assert exported["RQ_GATEWAY_AUDIT_MAXLEN"] == "5" and exported["REDIS_URL"] == "redis://127.0.0.1:1/0"
    assert exported["RQ_GATEWAY_CONFIG"] is None


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("none.toml", None, "none.toml: not a readable file"),
        ("gateway.yaml", "port: 1\n", "gateway.yaml: expected a .toml or .json settings file"),
        ("bad.toml", "port = \n", "bad.toml: not valid TOML: Invalid value (at line 1, column 8)"),
        ("bad.json", '{"port": ', "bad.json: not valid JSON: Expecting value"),
        ("list.json", "[1]", "list.json: expected a table (object) of settings at the top"),
        ("typo.toml", "prot = 1\n", "typo.toml: 'prot' is not a setting"),
        ("self.toml", 'config = "x.toml"\n', "self.toml: 'config' is not a setting"),
        ("port.toml", 'port = "abc"\n', "port.toml: port=abc: expected a TCP port number, 0-65535"),
        (
            "inst.toml",
            "[redis_instances]\nb = 1\n",
            "inst.toml: redis_instances: instance 'b': expected a URL or a table",
        ),
        (
            "inst2.toml",
            '[redis_instances]\n"b c" = "redis://x"\n',
            "inst2.toml: redis_instances: expected NAME=URL",
        ),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_naming_it(served, tmp_path, name, text, message):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    result = serve("--config", str(path), "--redis-url", "redis://127.0.0.1:1/0")
    assert result.exit_code == 2 and served == [], result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_variable_names_the_file_too(served, tmp_path):
    result = serve(env={"RQ_GATEWAY_CONFIG": str(tmp_path / "gone.toml")})
    assert result.exit_code == 2
    assert f"RQ_GATEWAY_CONFIG: {tmp_path / 'gone.toml'}: not a readable file" in result.output


def test_the_readme_example_is_read_as_documented(tmp_path: Path):
    import re

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Several Redis instances\n", 1)[1].split("\n### ", 1)[0]
    path = tmp_path / "rq-gateway.toml"
    path.write_text(re.search(r"```toml\n(.*?)```", section, re.S)[1])
    settings = Settings(config=str(path))
    assert settings.redis_url == "redis://main:6379/0" and settings.redis_timeout == 2.0
    assert [item.split("=")[0] for item in settings.redis_instances] == ["billing", "mail"]


def test_instance_tables_give_sentinel_settings_and_their_own_tls_files(tmp_path):
    from tests.tls_files import make_tls_files

    tls = make_tls_files(tmp_path / "tls")
    path = tmp_path / "gateway.toml"
    path.write_text(
        "[redis_instances]\n"
        'plain = "redis://127.0.0.1:1/0"\n'
        'ha = { sentinel = ["127.0.0.1:1", "127.0.0.1:2"], master_name = "m", db = 2 }\n'
        f'secure = {{ url = "rediss://127.0.0.1:3/0", ca_file = "{tls.ca}", '
        f'cert_file = "{tls.client_cert}", key_file = "{tls.client_key}" }}\n'
    )
    settings = Settings(config=str(path))
    plain, ha, secure = settings.redis_instances
    assert (plain, ha) == ("plain=redis://127.0.0.1:1/0", "ha=redis+sentinel://127.0.0.1:1,127.0.0.1:2/m/2")
    # The instance's own files travel in its URL, as redis-py reads them there.
    from gateway.redis_settings import connect

    alone = Settings(redis_url=secure.split("=", 1)[1])
    kwargs = connect(alone).connection_pool.connection_kwargs
    assert (kwargs["ssl_ca_certs"], kwargs["ssl_certfile"], kwargs["ssl_keyfile"]) == (
        str(tls.ca),
        str(tls.client_cert),
        str(tls.client_key),
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('{ url = "redis://x", sentinel = "h:1" }', "instance 'bad': give url, or sentinel with master_name"),
        ('{ sentinel = "h:1" }', "instance 'bad': give url, or sentinel with master_name"),
        ('{ url = "redis://x", ca = "f" }', "instance 'bad': 'ca' not known; expected url, sentinel"),
        (
            '{ url = "redis://x", ca_file = "/etc/hostname" }',
            "instance 'bad': TLS files need a rediss:// url",
        ),
        (
            '{ url = "rediss://x", ca_file = "/no/ca.pem" }',
            "instance 'bad': '/no/ca.pem' is not a readable file",
        ),
        (
            '{ url = "rediss://x", cert_file = "/etc/hostname" }',
            "instance 'bad': a client certificate and its key go",
        ),
        ('{ sentinel = "h:x", master_name = "m" }', "instance 'bad': 'h:x' is not host:port"),
        ('{ sentinel = "h:1", master_name = "m", db = "two" }', "instance 'bad': db must be a whole number"),
        ("5", "instance 'bad': expected a URL or a table"),
    ],
)
def test_a_bad_instance_table_is_refused_naming_the_file_and_the_instance(served, tmp_path, table, message):
    path = tmp_path / "gateway.toml"
    path.write_text(f"[redis_instances]\nbad = {table}\n")
    result = serve("--config", str(path))
    assert result.exit_code == 2 and served == [], result.output
    assert f"{path}: redis_instances: {message}" in result.output
    assert "Traceback" not in result.output


def test_the_readme_table_example_is_read_as_documented(tmp_path: Path):
    import re

    from tests.tls_files import make_tls_files

    tls = make_tls_files(tmp_path / "tls")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Several Redis instances\n", 1)[1].split("\n### ", 1)[0]
    example = re.findall(r"```toml\n(.*?)```", section, re.S)[1]
    path = tmp_path / "tables.toml"
    path.write_text(example.replace("/etc/rq-gateway/reports-ca.pem", str(tls.ca)))
    reports, ha = Settings(config=str(path)).redis_instances
    assert reports == f"reports=rediss://reports-redis:6380/0?ssl_ca_certs={str(tls.ca).replace('/', '%2F')}"
    assert ha == "ha=redis+sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/mymaster/0"
