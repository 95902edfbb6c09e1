"""--hide-payloads on real jobs: RQ's default description quotes the call, arguments included, and
arguments the gateway cannot decode are still in it. A viewer sees none of it, on any view."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.keyed import gql, keyed_client
from tests.payload_views import viewer_bodies

from .helpers import HERE
from .payment_jobs import CARD, PASSWORD

QUEUES = ("billing", "billing-later")


@pytest.fixture
def payment_jobs(r, redis_url, worker) -> dict[str, str]:
    """Enqueued by a producer process that has the job module (the gateway has not), then run by a
    real worker: two failed charges, a finished tokenize, two jobs still queued."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", "import sys, payment_jobs; payment_jobs.produce(sys.argv[1])", redis_url],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout)
    worker("billing")
    return ids


def test_a_viewer_sees_no_argument_of_a_real_job_anywhere(r, payment_jobs):
    viewer = keyed_client(r, "viewer", hide_payloads=True)
    operator = keyed_client(r, "operator", hide_payloads=True)
    ids = list(payment_jobs.values())
    shown = "\n".join(viewer_bodies(operator, QUEUES, ids))
    assert CARD in shown and PASSWORD in shown, "the secret is there to leak: operators see it"
    for body in viewer_bodies(viewer, QUEUES, ids):
        assert CARD not in body and PASSWORD not in body, body


def test_what_a_viewer_sees_instead(r, payment_jobs):
    viewer = keyed_client(r, "viewer", hide_payloads=True)
    operator = keyed_client(r, "operator", hide_payloads=True)
    undecodable = operator.get(f"/api/v1/jobs/status/{payment_jobs['undecodable']}").json()
    assert undecodable["args"] is None and f"Card('{CARD}')" in undecodable["description"]

    for name, job_id in payment_jobs.items():
        job = viewer.get(f"/api/v1/jobs/status/{job_id}").json()
        function = "tokenize" if name == "finished" else "charge"
        assert job["description"] == f"payment_jobs.{function}(…)", name
        assert (job["args"], job["kwargs"], job["result"]) == (None, None, None)
        assert job["func_name"] == f"payment_jobs.{function}" and job["job_id"] == job_id
    failed = viewer.get(f"/api/v1/jobs/status/{payment_jobs['plain']}").json()
    assert failed["status"] == "failed" and "RuntimeError: card declined" in failed["exc_info"]
    node = gql(viewer, "query($id: ID!) { job(id: $id) { description args } }", id=payment_jobs["custom"])
    assert node["data"]["job"] == {"description": "payment_jobs.charge(…)", "args": None}
