"""The production-topology settings (README "Deployment"): Sentinel by options or by URL, TLS
files, each read from its variable, refused at start-up by name when contradictory or unloadable,
handed to worker processes, and turned into the client `connect` builds."""

from __future__ import annotations

import pytest
import redis
from click.testing import CliRunner
from pydantic import ValidationError
from redis.sentinel import SentinelConnectionPool, SentinelManagedConnection

from gateway.cli import main
from gateway.config import Settings, describe_refusal, env_name, environment
from gateway.redis_settings import connect, describe_redis
from gateway.services import SentinelTarget
from gateway.services.redis.connection import parse_sentinel_url
from tests.tls_files import TlsFiles, make_tls_files


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def clean_env(monkeypatch):
    for field in Settings.model_fields:
        monkeypatch.setenv(env_name(field), "")
        monkeypatch.delenv(env_name(field))
    return monkeypatch


def refusal(**values) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)
    return describe_refusal(caught.value, {})


def test_sentinel_settings_are_read_from_their_variables_and_exported_back(clean_env):
    clean_env.setenv("RQ_GATEWAY_REDIS_SENTINEL", "10.0.0.1:26379, 10.0.0.2:26380,sentinel-3")
    clean_env.setenv("RQ_GATEWAY_REDIS_MASTER_NAME", "mymaster")
    clean_env.setenv("RQ_GATEWAY_REDIS_SENTINEL_PASSWORD", "s3cret")
    settings = Settings()
    assert settings.redis_sentinel == ("10.0.0.1:26379", "10.0.0.2:26380", "sentinel-3:26379")
    assert (settings.redis_master_name, settings.redis_sentinel_password) == ("mymaster", "s3cret")
    assert not settings.demo
    exported = environment(settings)
    assert exported["RQ_GATEWAY_REDIS_SENTINEL"] == "10.0.0.1:26379,10.0.0.2:26380,sentinel-3:26379"
    for name, value in exported.items():
        if value is not None:
            clean_env.setenv(name, value)
    assert Settings() == settings


def test_tls_settings_are_read_from_their_variables(clean_env, tls):
    clean_env.setenv("REDIS_URL", "rediss://gw:pw@127.0.0.1:6380/0")
    clean_env.setenv("RQ_GATEWAY_REDIS_CA_FILE", str(tls.ca))
    clean_env.setenv("RQ_GATEWAY_REDIS_CERT_FILE", str(tls.client_cert))
    clean_env.setenv("RQ_GATEWAY_REDIS_KEY_FILE", str(tls.client_key))
    settings = Settings()
    assert (settings.redis_ca_file, settings.redis_cert_file, settings.redis_key_file) == (
        str(tls.ca),
        str(tls.client_cert),
        str(tls.client_key),
    )
    kwargs = connect(settings).connection_pool.connection_kwargs
    assert kwargs["ssl_ca_certs"] == str(tls.ca)
    assert (kwargs["ssl_certfile"], kwargs["ssl_keyfile"]) == (str(tls.client_cert), str(tls.client_key))
    assert (kwargs["username"], kwargs["password"]) == ("gw", "pw")


@pytest.mark.parametrize(
    "values, message",
    [
        (
            {"redis_url": "redis://h:1/0", "redis_sentinel": "h:2", "redis_master_name": "m"},
            "--redis-url (REDIS_URL) and --redis-sentinel (RQ_GATEWAY_REDIS_SENTINEL): give one or the other",
        ),
        ({"redis_sentinel": "h:2"}, "and --redis-master-name (RQ_GATEWAY_REDIS_MASTER_NAME): give both"),
        ({"redis_master_name": "m"}, "--redis-sentinel (RQ_GATEWAY_REDIS_SENTINEL) and --redis-master-name"),
        ({"redis_sentinel": "h:port", "redis_master_name": "m"}, "'h:port' is not host:port"),
        ({"redis_sentinel": "h:70000", "redis_master_name": "m"}, "'h:70000' is not host:port"),
        (
            {"redis_url": "redis://h:1/0", "redis_sentinel_password": "x"},
            "--redis-sentinel-password (RQ_GATEWAY_REDIS_SENTINEL_PASSWORD): only used with Sentinel",
        ),
        (
            {"redis_url": "redis://h:1/0", "redis_ca_file": "/etc/hostname"},
            "--redis-ca-file (RQ_GATEWAY_REDIS_CA_FILE): needs a rediss:// URL (TLS)",
        ),
        (
            {"redis_url": "redis+sentinel://h:1/m", "redis_ca_file": "/etc/hostname"},
            "--redis-ca-file (RQ_GATEWAY_REDIS_CA_FILE): '/etc/hostname' does not hold CA certificates",
        ),
        (
            {"redis_url": "rediss://h:1/0", "redis_ca_file": "/no/such/ca.pem"},
            "--redis-ca-file (RQ_GATEWAY_REDIS_CA_FILE): '/no/such/ca.pem' is not a readable file",
        ),
        (
            {"redis_url": "rediss://h:1/0", "redis_ca_file": "/etc/hostname"},
            "--redis-ca-file (RQ_GATEWAY_REDIS_CA_FILE): '/etc/hostname' does not hold CA certificates",
        ),
        (
            {"redis_url": "rediss://h:1/0", "redis_cert_file": "/etc/hostname"},
            "a client certificate and its key go together: give both files or neither",
        ),
        (
            # The shared TLS files apply to every instance: a plain one failed at its first
            # connection (a traceback at start-up), now here, by name.
            {
                "redis_url": "rediss://h:1/0",
                "redis_instances": "b=redis://h:2/0",
                "redis_ca_file": "/etc/hostname",
            },
            "apply to every instance, and instance 'b' has no rediss:// URL",
        ),
        (
            {"redis_instances": "a=rediss://h:1/0,b=redis://h:2/0", "redis_ca_file": "/etc/hostname"},
            "instance 'b' has no rediss:// URL",
        ),
    ],
)
def test_contradictory_or_unloadable_topology_settings_are_refused_by_name(values, message):
    assert message in refusal(**values)


def test_a_client_key_that_does_not_match_its_certificate_is_refused(tls):
    text = refusal(
        redis_url="rediss://h:1/0", redis_cert_file=str(tls.client_cert), redis_key_file=str(tls.server_key)
    )
    assert text.startswith("--redis-cert-file (RQ_GATEWAY_REDIS_CERT_FILE) and --redis-key-file")
    assert "does not hold a certificate and its key" in text


def test_serve_refuses_a_bad_tls_file_before_serving():
    result = CliRunner().invoke(
        main, ["serve", "--redis-url", "rediss://h:1/0", "--redis-ca-file", "/no/such/ca.pem"]
    )
    assert result.exit_code == 2
    assert (
        "--redis-ca-file (RQ_GATEWAY_REDIS_CA_FILE): '/no/such/ca.pem' is not a readable file"
        in result.output
    )
    assert "Traceback" not in result.output


def test_the_sentinel_url_and_the_options_mean_the_same():
    by_url = parse_sentinel_url("redis+sentinel://gw:p%40ss@10.0.0.1:26379,[::1]:26380,s3/mymaster/2")
    assert by_url == SentinelTarget(
        (("10.0.0.1", 26379), ("::1", 26380), ("s3", 26379)), "mymaster", 2, "gw", "p@ss"
    )
    assert parse_sentinel_url("redis+sentinel://h:1/m").db == 0
    settings = Settings(redis_sentinel="10.0.0.1:26379", redis_master_name="mymaster")
    assert describe_redis(settings) == "Sentinel master 'mymaster' (db 0) via 10.0.0.1:26379"


def test_a_sentinel_client_follows_the_master_and_keeps_the_fail_fast_policy():
    settings = Settings(
        redis_sentinel="127.0.0.1:1",
        redis_master_name="mymaster",
        redis_sentinel_password="sp",
        redis_timeout=0.5,
    )
    client = connect(settings)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "mymaster"
    assert pool.connection_kwargs["socket_timeout"] == 0.5
    assert pool.connection_kwargs["retry"].get_retries() == 1
    (sentinel,) = pool.sentinel_manager.sentinels
    assert sentinel.connection_pool.connection_kwargs["password"] == "sp"
    assert sentinel.get_retry().get_retries() == 0
    # Nothing listens on port 1: no master can be found, which is a ConnectionError (a 503).
    with pytest.raises(redis.ConnectionError):
        client.ping()


@pytest.mark.parametrize("by_url", [False, True])
def test_tls_files_with_sentinel_turn_on_tls_to_the_sentinels_and_the_master(tls, by_url):
    """The built client (no connection made): each sentinel's client and the master's pool carry
    ssl=True and the same files; without TLS files, neither has TLS."""
    files = {
        "redis_ca_file": str(tls.ca),
        "redis_cert_file": str(tls.client_cert),
        "redis_key_file": str(tls.client_key),
    }
    where = (
        {"redis_url": "redis+sentinel://127.0.0.1:1,127.0.0.1:2/m/0"}
        if by_url
        else {"redis_sentinel": "127.0.0.1:1,127.0.0.1:2", "redis_master_name": "m"}
    )
    expected = {
        "ssl_ca_certs": str(tls.ca),
        "ssl_certfile": str(tls.client_cert),
        "ssl_keyfile": str(tls.client_key),
    }
    client = connect(Settings(**where, **files))
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert issubclass(pool.connection_class, SentinelManagedConnection)
    assert issubclass(pool.connection_class, redis.SSLConnection)
    assert expected.items() <= pool.connection_kwargs.items()
    for sentinel in pool.sentinel_manager.sentinels:
        kwargs = sentinel.connection_pool.connection_kwargs
        assert sentinel.connection_pool.connection_class is redis.SSLConnection
        assert expected.items() <= kwargs.items()
    plain = connect(Settings(**where)).connection_pool
    assert issubclass(plain.connection_class, SentinelManagedConnection)
    assert not issubclass(plain.connection_class, redis.SSLConnection)
    for sentinel in plain.sentinel_manager.sentinels:
        assert sentinel.connection_pool.connection_class is redis.Connection


@pytest.mark.parametrize(
    "url, message",
    [
        ("foo://h:1/0", "expected a redis://, rediss://, unix:// or redis+sentinel:// URL"),
        ("rediss+sentinel://h:1/m/0", "expected a redis://, rediss://, unix:// or redis+sentinel:// URL"),
        ("h:6379", "expected a redis://, rediss://, unix:// or redis+sentinel:// URL"),
        ("redis://h:99999/0", "the port must be a number from 1 to 65535"),
        ("redis://h:port/0", "the port must be a number from 1 to 65535"),
        ("redis://h:1/abc", "the database must be a whole number, e.g. redis://host:6379/0"),
        ("redis://h:1/0?db=x", "the database must be a whole number, e.g. redis://host:6379/0"),
        ("redis://[::1", "not a URL"),
        ("redis+sentinel://h:1", "expected redis+sentinel://host:port[,host:port...]/MASTER_NAME[/DB]"),
        ("redis+sentinel://h:99999/m/0", "'h:99999' is not host:port"),
    ],
)
def test_a_redis_url_that_cannot_be_used_is_refused_by_name_at_start_up(url, message):
    """Each refused as a setting, naming the option: never a traceback at the first connection,
    never a database read silently as 0 (redis-py's parse_url skips a db it cannot read)."""
    text = refusal(redis_url=url)
    assert text.startswith("--redis-url (REDIS_URL): ") and message in text


def test_an_instance_url_that_cannot_be_used_is_refused_by_name_without_its_password():
    text = refusal(redis_url="redis://h:1/0", redis_instances=("b=redis://u:s3cret@h:1/x",))
    assert text.startswith("--redis-instances (RQ_GATEWAY_REDIS_INSTANCES): instance 'b': ")
    assert "the database must be a whole number" in text and "s3cret" not in text


@pytest.mark.parametrize("url", ["foo://h:1/0", "redis+sentinel://h:1", "redis://h:99999/0"])
def test_serve_refuses_a_bad_redis_url_before_serving(url):
    result = CliRunner().invoke(main, ["serve", "--redis-url", url])
    assert result.exit_code == 2 and "--redis-url (REDIS_URL): " in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "url",
    [
        "redis://h:6379/0",
        "redis://h",
        "redis://:pw@h:6379/15",
        "rediss://user:pw@h:6380/1?ssl_cert_reqs=required",
        "unix:///var/run/redis.sock?db=2",
        "redis://h:6379/0?db=3",
        "redis+sentinel://h:26379,k/m/0",
        "redis://[::1]:6379/0",
    ],
)
def test_urls_redis_py_and_rq_accept_are_accepted(url):
    Settings(redis_url=url)
