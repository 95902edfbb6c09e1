"""rest/errors.py: FastAPI's own HTTP errors keep their answers, except the one that broke the
"bad input is a 422" rule (found by schemathesis: a body that is not UTF-8 got an undocumented 400)."""

from __future__ import annotations

import pytest

UNREADABLE = (
    "Invalid request: the body cannot be read as JSON (it is not UTF-8, is nested too deeply, or "
    "holds a number of over 4300 digits)"
)


@pytest.mark.parametrize("path", ["/api/v1/jobs/failed/retry", "/api/v1/jobs/failed/delete"])
@pytest.mark.parametrize(
    "body", [b"\xff\xfe?", b'{"job_ids": [' + b"1" * 5000 + b"]}"], ids=["not-utf8", "long-int"]
)
def test_a_body_that_is_not_utf8_is_a_422_with_detail(client, path, body):
    """json.loads refuses an integer of over 4300 digits with a ValueError, which FastAPI
    answers as it answers bytes that are not UTF-8."""
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {"detail": UNREADABLE}


def test_other_http_errors_are_unchanged(client):
    assert (client.get("/no-such-path").status_code, client.get("/no-such-path").json()) == (
        404,
        {"detail": "Not Found"},
    )
    response = client.put("/api/v1/jobs/stats")
    assert (response.status_code, response.headers["allow"]) == (405, "GET")


def test_a_trailing_slash_is_not_redirected_to_another_resource(client, factory):
    """With redirects, DELETE /failed/groups/%2F became a 307 to the delete of a job named 'groups'."""
    response = client.delete("/api/v1/jobs/failed/groups/%2F", follow_redirects=False)
    assert response.status_code == 404
    assert client.get("/api/v1/jobs/failed/", follow_redirects=False).status_code == 404


def test_error_responses_document_each_error_at_its_handled_status():
    """The documented statuses come from the table the handler answers with, so the two cannot drift."""
    from gateway.errors import BackendUnavailable, Conflict, QueueNotFound
    from gateway.rest.errors import STATUS_BY_ERROR, error_response, error_responses
    from gateway.rest.models import ErrorDetail

    documented = error_responses((QueueNotFound, "no such queue"), Conflict, (BackendUnavailable, None))
    assert documented == {
        404: {"model": ErrorDetail, "description": "no such queue"},
        409: {"model": ErrorDetail, "description": "The job is not in a state the action applies to"},
        503: {"model": ErrorDetail},  # None: the status's own phrase
    }
    # A subclass is documented at the status its instances are answered with.
    assert error_response(QueueNotFound("nope")).status_code == 404
    for error, status in STATUS_BY_ERROR.items():
        assert list(error_responses(error)) == [status]


def test_every_documented_error_status_is_one_the_handler_answers_with(client):
    from gateway.rest.errors import STATUS_BY_ERROR

    answered = {str(status) for status in STATUS_BY_ERROR.values()}
    for path, methods in client.app.openapi()["paths"].items():
        for method, operation in methods.items():
            errors = {status for status in operation["responses"] if int(status) >= 400}
            assert errors <= answered, (method, path, errors - answered)
            for status in errors:
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorDetail"}, (method, path, status)
