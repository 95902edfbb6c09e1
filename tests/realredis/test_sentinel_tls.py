"""TLS through Sentinel (README "Sentinel"): a redis-server and a `redis-server --sentinel` that
both speak only TLS and demand a client certificate, with certificates made for the test. The
TLS files turn TLS on for the sentinels and the master alike, whether Sentinel is given by URL or
by options; a certificate the gateway does not trust is a 503 that says so, never a traceback.

One master and one sentinel (quorum 1): what is tested is the way to them, not a failover
(tests/realredis/test_sentinel.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from fastapi.testclient import TestClient
from rq import Queue

from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs
from tests.tls_files import TlsFiles, make_tls_files

from .helpers import API, RedisServer, run_worker
from .processes import GatewayProcess
from .sentinel import MASTER_NAME

pytestmark = pytest.mark.e2e


class TlsOnly(RedisServer):
    """A redis-server, or with `sentinel_of` a sentinel monitoring that port, on a TLS port only,
    requiring a client certificate; its own connections (a sentinel's to the master) use TLS too."""

    def __init__(self, binary: str, directory: Path, tls: TlsFiles, sentinel_of: int | None = None):
        super().__init__(binary, directory)
        self.tls = tls
        self.sentinel_of = sentinel_of

    def client(self, **kwargs) -> redis.Redis:
        kwargs.setdefault("socket_timeout", 10)
        return redis.Redis(host="127.0.0.1", port=self.port, ssl=True, **self.files(), **kwargs)

    def files(self) -> dict[str, str]:
        tls = self.tls
        return {
            "ssl_ca_certs": str(tls.ca),
            "ssl_certfile": str(tls.client_cert),
            "ssl_keyfile": str(tls.client_key),
        }

    def arguments(self) -> list[str]:
        tls = self.tls
        lines = [
            f"port 0\ntls-port {self.port}\nbind 127.0.0.1\ndir {self.directory}",
            f"tls-cert-file {tls.server_cert}\ntls-key-file {tls.server_key}",
            f"tls-client-cert-file {tls.client_cert}\ntls-client-key-file {tls.client_key}",
            f"tls-ca-cert-file {tls.ca}\ntls-auth-clients yes\ntls-replication yes",
        ]
        if self.sentinel_of is None:
            lines.append('save ""\nappendonly no')
        else:
            lines.append(f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.sentinel_of} 1")
        config = self.directory / "redis.conf"
        config.write_text("\n".join(lines) + "\n")  # Sentinel rewrites its file: one each
        return [str(config)] if self.sentinel_of is None else [str(config), "--sentinel"]


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def deployment(
    redis_server_binary: str, tls: TlsFiles, tmp_path_factory
) -> Iterator[tuple[TlsOnly, TlsOnly]]:
    root = tmp_path_factory.mktemp("sentinel-tls")
    master = TlsOnly(redis_server_binary, root / "master", tls)
    master.start()
    sentinel = TlsOnly(redis_server_binary, root / "sentinel", tls, sentinel_of=master.port)
    try:
        sentinel.start()
        yield master, sentinel
    finally:
        sentinel.stop()
        master.stop()


def tls_options(tls: TlsFiles, ca: Path | None = None) -> dict[str, str]:
    return {
        "redis_ca_file": str(ca or tls.ca),
        "redis_cert_file": str(tls.client_cert),
        "redis_key_file": str(tls.client_key),
    }


def failed_on(master: TlsOnly, count: int) -> list[str]:
    query = "&".join(f"{name}={value}" for name, value in master.files().items())
    url = f"rediss://127.0.0.1:{master.port}/0?{query}"
    connection = master.client()
    connection.flushall()
    ids = [Queue(connection=connection).enqueue(jobs.parse_report, f"bad-{i}").id for i in range(count)]
    connection.close()
    run_worker(url)
    return ids


def test_the_cli_reaches_the_master_through_tls_sentinels_by_url(deployment, tls, tmp_path):
    master, sentinel = deployment
    ids = failed_on(master, 2)
    url = f"redis+sentinel://127.0.0.1:{sentinel.port}/{MASTER_NAME}/0"
    options = [f"--{name.replace('_', '-')}={value}" for name, value in tls_options(tls).items()]
    gateway = GatewayProcess(url, tmp_path / "gateway.log", *options).start()
    try:
        assert requests.get(gateway.base + "/readyz", timeout=10).json() == {"status": "ready"}
        listed = requests.get(f"{gateway.base}{API}/failed", timeout=10).json()
        assert sorted(job["job_id"] for job in listed) == sorted(ids)
        retried = requests.post(f"{gateway.base}{API}/failed/{ids[0]}/retry", timeout=10)
        assert retried.status_code == 200, retried.text
    finally:
        gateway.stop()
    check = master.client()
    assert check.lrange("rq:queue:default", 0, -1) == [ids[0].encode()]
    check.close()


def test_the_options_form_and_an_untrusted_certificate(deployment, tls):
    master, sentinel = deployment
    check = master.client()
    check.set("rq-gateway:probe", "through the sentinel")
    check.close()
    where = {"redis_sentinel": f"127.0.0.1:{sentinel.port}", "redis_master_name": MASTER_NAME}
    trusted = TestClient(create_app(Settings(**where, **tls_options(tls))), raise_server_exceptions=False)
    assert trusted.get("/readyz").json() == {"status": "ready"}
    assert trusted.app.state.service.connection.get("rq-gateway:probe") == b"through the sentinel"
    # Another CA: the sentinels' certificate is not trusted, and the 503 says it is TLS.
    untrusted = TestClient(
        create_app(Settings(**where, **tls_options(tls, ca=tls.other_ca))), raise_server_exceptions=False
    )
    for path in ("/readyz", f"{API}/failed"):
        response = untrusted.get(path)
        assert response.status_code == 503, response.text
        assert (
            "The TLS connection to the sentinels failed (certificate verify failed"
            in response.json()["detail"]
        )


def test_a_settings_file_gives_one_instance_its_own_tls_files(deployment, tls, redis_server, tmp_path):
    """The default instance plain (the session server), the TLS master as `secure` with its own
    files from the file's table: no shared --redis-ca-file, which would make every instance TLS."""
    master, _ = deployment
    path = tmp_path / "rq-gateway.toml"
    path.write_text(
        "[redis_instances.secure]\n"
        f'url = "rediss://127.0.0.1:{master.port}/0"\n'
        f'ca_file = "{tls.ca}"\ncert_file = "{tls.client_cert}"\nkey_file = "{tls.client_key}"\n'
    )
    gateway = GatewayProcess(redis_server.url, tmp_path / "gateway.log", "--config", str(path)).start()
    try:
        ready = requests.get(gateway.base + "/readyz", timeout=10).json()
        assert [(i["name"], i["healthy"]) for i in ready["instances"]] == [
            ("default", True),
            ("secure", True),
        ]
        answer = requests.get(f"{gateway.base}{API}/stats", params={"instance": "secure"}, timeout=10)
        assert answer.status_code == 200, answer.text
    finally:
        gateway.stop()
