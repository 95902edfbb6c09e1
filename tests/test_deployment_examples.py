"""The replicated-deployment examples (deploy/, README "Deployment") work as written.

There is no Docker or Kubernetes here, so, as in tests/test_docker_examples.py, each gateway
container is played by the CLI: its environment and mounted files are given to `rq-gateway`,
which runs the container's command and stops where uvicorn would start. What the orchestrator
does with the rest (replicas, probes, the proxy) is checked on the parsed files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gateway import cli
from gateway.config import Settings, env_name
from tests.keyed import API_KEYS
from tests.tls_files import make_tls_files

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
README = (ROOT / "README.md").read_text()
VARIABLES = {env_name(field) for field in Settings.model_fields}


def image_cmd() -> list[str]:
    (cmd,) = re.findall(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), flags=re.M)
    return json.loads(cmd)


@pytest.fixture
def serve(monkeypatch):
    """Runs a container's command with its environment; returns the Settings it would serve with."""
    served: list[Settings] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.append(app.state.settings))
    monkeypatch.setattr(cli, "warn_if_unreachable", lambda settings: None)  # no such Redis host here
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)

    def run(argv: list[str], env: dict[str, str]) -> Settings:
        assert argv[:2] == ["rq-gateway", "serve"], argv
        assert set(env) <= VARIABLES, f"not a setting: {set(env) - VARIABLES}"
        result = CliRunner().invoke(cli.main, argv[1:], env=env)
        assert result.exit_code == 0, result.output
        return served.pop()

    return run


def keys_file(directory: Path) -> Path:
    path = directory / "api-keys.txt"
    path.write_text("\n".join(key.line() for key in API_KEYS) + "\n")
    return path


def test_the_kubernetes_deployment_runs_replicas_with_readiness_on_readyz(serve, tmp_path):
    deployment, service = yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text())
    assert deployment["kind"] == "Deployment" and service["kind"] == "Service"
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    (port,) = container["ports"]
    assert (
        container["readinessProbe"]["httpGet"]["port"]
        == port["name"]
        == service["spec"]["ports"][0]["targetPort"]
    )
    assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]

    # The Secret's files, mounted where the variables say; the URL from the Secret.
    tls = make_tls_files(tmp_path / "tls")
    (mount,) = container["volumeMounts"]
    (volume,) = pod["volumes"]
    mounted = {item["key"]: f"{mount['mountPath']}/{item['path']}" for item in volume["secret"]["items"]}
    host_files = {mounted["ca.pem"]: str(tls.ca), mounted["api-keys.txt"]: str(keys_file(tmp_path))}
    env = {}
    for variable in container["env"]:
        if "valueFrom" in variable:
            env[variable["name"]] = "rediss://rq-gateway:secret@redis.example.com:6380/0"
        else:
            env[variable["name"]] = host_files.get(variable["value"], variable["value"])
    settings = serve(container["args"], env)
    assert settings.port == port["containerPort"] and settings.host == "0.0.0.0"
    assert settings.redis_ca_file == str(tls.ca) and settings.api_keys == API_KEYS


def test_the_compose_file_runs_replicas_behind_a_round_robin_proxy(serve, tmp_path):
    compose = yaml.safe_load((DEPLOY / "docker-compose.replicas.yml").read_text())
    gateway, proxy = compose["services"]["gateway"], compose["services"]["proxy"]
    assert gateway["deploy"]["replicas"] >= 2
    assert "ports" not in gateway, "replicas cannot share a published port"
    assert proxy["ports"] == ["8000:80"]
    assert proxy["depends_on"]["gateway"]["condition"] == "service_healthy"
    (config_mount,) = proxy["volumes"]
    nginx = (DEPLOY / config_mount.split(":")[0]).read_text()
    assert re.search(r"upstream gateway \{\s*server gateway:8000;", nginx)
    assert "proxy_pass http://gateway;" in nginx
    assert (DEPLOY / gateway["build"] / "Dockerfile").exists()
    assert compose["secrets"]["api-keys"]["file"] == "../api-keys.txt"

    env = dict(gateway["environment"])
    env["RQ_GATEWAY_API_KEYS_FILE"] = str(keys_file(tmp_path))  # the mounted secret
    settings = serve(image_cmd(), env)
    assert settings.redis_url == "redis://redis:6379/0" and settings.api_keys == API_KEYS


def test_the_readme_shows_the_deployment_examples_and_the_opt_in_command():
    deployment = README.split("\n## Deployment\n", 1)[1].split("\n## ", 1)[0]
    for name in ("kubernetes.yaml", "docker-compose.replicas.yml", "nginx.conf"):
        assert f"deploy/{name}" in deployment, name
    assert "RQ_GATEWAY_TOPOLOGY_JOBS=100000 python -m pytest" in deployment
