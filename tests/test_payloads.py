"""One definition of a payload (gateway/services/payloads.py): every field of every result a read
returns is classified, and under --hide-payloads no payload reaches a viewer, whatever it holds."""

from __future__ import annotations

import dataclasses
import sys
import types
import typing

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq import Queue

from gateway.services import AuditPage, CallerInfo, JobInfo, Operation, QueueHistory
from gateway.services.access import access_of
from gateway.services.domain import models
from gateway.services.payloads import NESTED, PAYLOAD, SHOWN, hide_payloads
from gateway.services.reads.streams import JobStream
from tests import payload_jobs
from tests.conftest import run_worker
from tests.keyed import keyed_client
from tests.payload_views import viewer_bodies
from tests.test_access import service_members

# Whatever a field with one of these names holds, it is the job's data.
PAYLOAD_NAMES = {"args", "kwargs", "result", "meta", "description", "data", "return_value"}


def _dataclasses_in(hint, found: set[type]) -> set[type]:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type) and hint not in found:
        found.add(hint)
        for field_hint in typing.get_type_hints(hint).values():
            _dataclasses_in(field_hint, found)
    for argument in typing.get_args(hint):
        _dataclasses_in(argument, found)
    return found


def read_result_types() -> set[type]:
    """Every dataclass a read of JobService can return, directly or inside another."""
    found: set[type] = set()
    for member in service_members().values():
        access = access_of(member)
        if callable(member) and access is not None and access.role is not None and not access.audited:
            _dataclasses_in(typing.get_type_hints(member).get("return"), found)
    return found


def test_every_field_of_every_result_is_classified_once():
    kinds = read_result_types() | {
        kind for kind in vars(models).values() if dataclasses.is_dataclass(kind) and isinstance(kind, type)
    }
    assert JobInfo in kinds and models.JobPage in kinds and models.FailureGroup in kinds
    # Results from outside models.py, read by methods of several facade mixins: the walk saw them.
    assert {AuditPage, CallerInfo, Operation, QueueHistory} <= read_result_types()
    for kind in kinds:
        names = [field.name for field in dataclasses.fields(kind)]
        classes = [set(PAYLOAD.get(kind, {})), set(NESTED.get(kind, ())), set(SHOWN.get(kind, ()))]
        for name in names:
            assert sum(name in cls for cls in classes) == 1, f"{kind.__name__}.{name} is not classified once"
        assert set().union(*classes) <= set(names), f"{kind.__name__} classifies a field it lacks"
        hints = typing.get_type_hints(kind)
        for name in names:
            if _dataclasses_in(hints[name], set()):
                assert name in NESTED.get(kind, ()), f"{kind.__name__}.{name} holds results: NESTED"
            if name in PAYLOAD_NAMES:
                assert name in PAYLOAD.get(kind, {}), f"{kind.__name__}.{name} is a payload"


def test_a_result_type_nobody_classified_is_hidden_whole():
    @dataclasses.dataclass(frozen=True)
    class Future:
        job_id: str
        meta: dict

    hidden = hide_payloads([Future("a", {"card": "4111"})])
    assert hidden == [Future(None, None)]


def test_the_hidden_description_is_the_bare_call():
    job = JobInfo("a", "failed", "q", func_name="app.charge", args=["x"], description="app.charge('x')")
    assert hide_payloads(job) == dataclasses.replace(job, args=None, description="app.charge(…)")
    unknown = dataclasses.replace(job, func_name=None)
    assert hide_payloads(unknown).description is None


def test_a_streamed_list_is_hidden_chunk_by_chunk():
    job = JobInfo("a", "failed", "q", func_name="app.charge", args=["x"], description="app.charge('x')")
    hidden = hide_payloads(JobStream(iter([[job], [job, job]])))
    assert [[j.args for j in chunk] for chunk in hidden] == [[None], [None, None]]


class _Vault:
    """An argument the gateway cannot decode: its module exists only while the test enqueues."""

    def __init__(self, secret: str):
        self.secret = secret

    def __repr__(self) -> str:
        return f"Vault({self.secret!r})"


_Vault.__module__ = "vault_only_in_producers"

secrets = st.from_regex(r"SECRET[0-9a-f]{8}", fullmatch=True)
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _with(secret: str):
    """Random JSON-ish data with the secret somewhere inside."""
    leaves = st.one_of(st.just(secret), text.map(lambda t: t + secret), st.integers(), st.none())
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
        max_leaves=6,
    ).filter(lambda value: secret in repr(value))


@st.composite
def calls(draw):
    secret = draw(secrets)
    args = draw(st.lists(_with(secret), min_size=1, max_size=3))
    kwargs = draw(st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), _with(secret), max_size=2))
    description = draw(st.none() | st.tuples(text, text).map(lambda parts: parts[0] + secret + parts[1]))
    return secret, args, kwargs, description, draw(st.booleans())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=calls())
def test_no_payload_reaches_a_viewer_whatever_it_holds(conn, call):
    secret, args, kwargs, description, undecodable = call
    conn.flushall()
    queue = Queue("default", connection=conn)
    options = {"description": description, "meta": {"secret": secret}}
    ids = [
        queue.enqueue_call(payload_jobs.decline, args, kwargs, **options).id,
        queue.enqueue_call(payload_jobs.echo, args, kwargs, **options).id,
    ]
    run_worker(conn)
    if undecodable:
        sys.modules["vault_only_in_producers"] = types.SimpleNamespace(_Vault=_Vault)
        try:
            ids.append(queue.enqueue_call(payload_jobs.decline, [_Vault(secret)], **options).id)
        finally:
            del sys.modules["vault_only_in_producers"]
    viewer = keyed_client(conn, "viewer", hide_payloads=True)
    for body in viewer_bodies(viewer, ["default"], ids):
        assert secret not in body
