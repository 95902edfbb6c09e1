"""The checked-in contract files match the code, and the SDL is valid for graphql-js."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from graphql import build_schema

from gateway.cli import render_schemas

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
NODE_MODULES = Path(__file__).resolve().parent.parent / ".ci" / "node" / "node_modules"


@pytest.mark.parametrize("name", ["schema.graphql", "openapi.json"])
def test_checked_in_schema_matches_the_code(name):
    expected = render_schemas()[name]
    actual = (SCHEMA_DIR / name).read_text()
    assert actual == expected, f"schema/{name} is stale: run `rq-gateway export-schema` and commit"


def test_openapi_documents_the_seven_operations_without_graphql():
    spec = json.loads((SCHEMA_DIR / "openapi.json").read_text())
    assert "/graphql" not in spec["paths"]
    operation_ids = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    assert {
        "list_failed_jobs",
        "retry_job",
        "retry_all",
        "delete_job",
        "clear_failed",
        "job_status",
        "queue_stats",
    } <= operation_ids


def test_sdl_has_the_issue_schema():
    schema = build_schema((SCHEMA_DIR / "schema.graphql").read_text())
    query = schema.query_type.fields
    assert {"failedJobs", "job", "queueStats"} <= set(query)
    assert str(query["failedJobs"].args["first"].type) == "Int"
    assert str(query["job"].type) == "Job"
    mutation = schema.mutation_type.fields
    assert {"retryFailedJob", "retryAllFailedJobs", "deleteFailedJob", "clearFailedJobs"} <= set(mutation)


def test_sdl_is_readable_by_graphql_js():
    node = shutil.which("node")
    if not node or not (NODE_MODULES / "graphql").exists():
        message = "needs node and `npm install --prefix .ci/node graphql@16` (done by .ci/run)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    script = (
        "const {buildSchema} = require('graphql');"
        "const s = buildSchema(require('fs').readFileSync(process.argv[1], 'utf8'));"
        "console.log(Object.keys(s.getQueryType().getFields()).join(','));"
    )
    result = subprocess.run(
        [node, "-e", script, str(SCHEMA_DIR / "schema.graphql")],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    expected = build_schema((SCHEMA_DIR / "schema.graphql").read_text()).query_type.fields
    assert result.stdout.strip().split(",") == list(expected)
