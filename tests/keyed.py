"""Fixtures for the security tests: an app with one API key per role, and one limited to billing-*."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from gateway.apikeys import ApiKey, hash_key
from gateway.app import create_app
from gateway.config import Settings
from gateway.services.principal import Role

KEYS = {
    "viewer": "rqg_viewer-secret-0123456789",
    "operator": "rqg_operator-secret-0123456789",
    "admin": "rqg_admin-secret-0123456789",
    "billing": "rqg_billing-secret-0123456789",
}
API_KEYS = (
    ApiKey("viewer", Role.VIEWER, hash_key(KEYS["viewer"])),
    ApiKey("operator", Role.OPERATOR, hash_key(KEYS["operator"])),
    ApiKey("admin", Role.ADMIN, hash_key(KEYS["admin"])),
    ApiKey("billing", Role.OPERATOR, hash_key(KEYS["billing"]), ("billing-*",)),
)


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


def keyed_client(conn, key: str | None = None, **settings: Any) -> TestClient:
    """A client of an app with API_KEYS configured, sending `key`'s bearer header (None: no header)."""
    settings.setdefault("api_keys", API_KEYS)
    app = create_app(Settings(redis_url="redis://unused", **settings), connection=conn)
    return TestClient(app, raise_server_exceptions=False, headers=bearer(key) if key else None)


def gql(client: TestClient, query: str, headers: dict | None = None, **variables: Any) -> dict:
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers).json()


def code_of(body: dict) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None
