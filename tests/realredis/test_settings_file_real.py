"""--config FILE through the CLI (README "Several Redis instances"): the README's TOML example,
its URLs pointed at two real redis-servers, started with `python -m gateway serve --config`; the
command line's --redis-url overrides the file's, and each instance of the file answers as its own
Redis."""

from __future__ import annotations

import re

import pytest
import redis
import requests
from rq import Queue

from gateway.demo import jobs

from .helpers import API, PROJECT_ROOT, RedisServer, failed_ids, run_worker
from .processes import GatewayProcess

pytestmark = pytest.mark.e2e


def fail_one(url: str) -> str:
    connection = redis.Redis.from_url(url)
    try:
        job_id = Queue(connection=connection).enqueue(jobs.parse_report, "bad").id
        run_worker(url, ("default",))
        assert failed_ids(connection) == [job_id]
        return job_id
    finally:
        connection.close()


def test_the_readme_settings_file_serves_its_instances(
    redis_server: RedisServer, second: RedisServer, tmp_path
):
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("### Several Redis instances\n", 1)[1].split("\n### ", 1)[0]
    example = re.search(r"```toml\n(.*?)```", section, re.S)[1]
    mail = redis_server.url.rsplit("/", 1)[0] + "/1"  # the session server's DB 1: no TLS here
    text = example.replace("redis://billing-redis:6379/0", second.url).replace(
        "rediss://mail-redis:6380/0", mail
    )
    assert "billing-redis" not in text and "mail-redis" not in text, "the README example changed"
    path = tmp_path / "rq-gateway.toml"
    path.write_text(text)
    on_default, on_billing = fail_one(redis_server.url), fail_one(second.url)

    # The file's redis_url (redis://main:6379/0) is overridden by the command line's.
    gateway = GatewayProcess(redis_server.url, tmp_path / "gateway.log", "--config", str(path)).start()
    try:
        ready = requests.get(gateway.base + "/readyz", timeout=10).json()
        assert [(i["name"], i["healthy"]) for i in ready["instances"]] == [
            ("default", True),
            ("billing", True),
            ("mail", True),
        ]

        def failed(**params: str) -> list[str]:
            response = requests.get(f"{gateway.base}{API}/failed", params=params, timeout=10)
            assert response.status_code == 200, response.text
            return [job["job_id"] for job in response.json()]

        assert failed() == [on_default]
        assert failed(instance="billing") == [on_billing]
        assert failed(instance="mail") == []
    finally:
        gateway.stop()


def test_a_bad_settings_file_stops_the_cli_naming_it(redis_server: RedisServer, tmp_path):
    path = tmp_path / "rq-gateway.toml"
    path.write_text('[redis_instances]\nbilling = "redis://127.0.0.1:1/0"\nbilling-eu = 5\n')
    gateway = GatewayProcess(redis_server.url, tmp_path / "gateway.log", "--config", str(path))
    with pytest.raises(AssertionError, match="gateway exited with 2"):
        gateway.start()
    output = gateway.output()
    assert f"{path}: redis_instances: instance 'billing-eu': expected a URL or a table" in output
    assert "Traceback" not in output
