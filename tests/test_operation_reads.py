"""The cost of reading operations (services/operations/store.py read_many): a page of the
operations list, and an admin's audit page of operation finish records, each read every
operation they name in one round trip, however many, as a queue-limited reader too. They read
one operation a round trip before: a limited key's list page could walk 101 of them, and each
finish record on a limited admin's audit page cost one or two."""

from __future__ import annotations

import pytest

from gateway.services import JobService
from gateway.services.audit import AuditRecord, AuditTrail
from gateway.services.operations.model import Selector
from gateway.services.operations.store import OperationStore, operation_key
from gateway.services.principal import Principal, Role
from gateway.services.read_scope import RequestScope
from gateway.services.redis.backend import BackendHealth

OPERATIONS = 30


@pytest.fixture
def operations(conn) -> list[str]:
    """OPERATIONS operations of an unrestricted admin, alternating between billing-eu and
    reports, each done, having acted on the one job it named, with a finish record for each. Every
    other billing-eu operation named a job of reports (its entry in billing-eu's registry)."""
    store, trail, ids = OperationStore(conn), AuditTrail(conn), []
    for index in range(OPERATIONS):
        queue = ("billing-eu", "reports")[index % 2]
        job_id = f"job-{index}"
        conn.hset(f"rq:job:{job_id}", mapping={"origin": "billing-eu" if index % 4 == 0 else "reports"})
        selector = Selector.parse({"job_ids": [job_id]})
        operation_id, _ = store.create("retry", queue, selector, "admin", 1, "", "token", None)
        done = {"status": "succeeded", "done": 1, "matched": 1, "acted": 1}
        conn.hset(operation_key(operation_id), mapping=done)
        finish = AuditRecord("r", "admin", "operation_retry.finish", queue, operation_id=operation_id)
        finish.acted = 1
        trail.write(finish, BackendHealth())
        ids.append(operation_id)
    return ids


def _service(conn, principal: Principal) -> JobService:
    return JobService(conn).scoped(RequestScope(principal, "r", AuditTrail(conn)))


LIMITED = Principal("billing", Role.ADMIN, ("billing-*",))
EVERYONE = Principal("all", Role.ADMIN)


@pytest.mark.parametrize("principal", [EVERYONE, LIMITED], ids=["unrestricted", "queue-limited"])
def test_a_page_of_operations_reads_them_in_one_round_trip(conn, operations, round_trips, principal):
    service = _service(conn, principal)
    round_trips.reset()
    page = service.operations(first=20)
    expected = [i for n, i in enumerate(reversed(operations)) if principal is EVERYONE or n % 2 == 1]
    assert [operation.id for operation in page] == expected[:20]
    # One batch of the list (tracker._LISTED_BATCH, here all of it), read in one pipeline.
    assert round_trips.commands.count("HGETALL") == len(operations)
    # The index, the operations, and for the limited key the named jobs' places.
    assert round_trips.count <= 3, round_trips.commands


def test_a_limited_admins_audit_page_reads_its_finish_records_operations_in_one_round_trip(
    conn, operations, round_trips
):
    service = _service(conn, LIMITED)
    round_trips.reset()
    page = service.audit_log(first=100)
    finishes = [entry for entry in page.entries if entry.action.endswith(".finish")]
    assert len(finishes) == OPERATIONS // 2 and {entry.queue for entry in finishes} == {"billing-eu"}
    # Each record counts as the reader's view of its own operation does: the job of billing-eu
    # it acted on, or none where that job was reports'.
    expected = {operation_id: 1 - (n // 2) % 2 for n, operation_id in enumerate(operations) if n % 2 == 0}
    assert {entry.operation_id: entry.job_count for entry in finishes} == expected
    # The trail, the operations in one pipeline, and their named jobs' places in another.
    assert round_trips.count <= 4, round_trips.commands


def test_a_finish_record_naming_no_valid_operation_id_reads_as_an_operation_no_longer_kept(conn):
    """Damaged audit data (an id that is no operation's) answers the page, as the README's
    rule for an operation no longer kept counts it: none, for named ids."""
    record = AuditRecord("r", "admin", "operation_retry.finish", "billing-eu", operation_id="../not-hex")
    record.acted, record.selector_kind = 3, "job_ids"
    AuditTrail(conn).write(record, BackendHealth())
    (entry,) = _service(conn, LIMITED).audit_log(first=10).entries
    assert (entry.operation_id, entry.job_count) == ("../not-hex", 0)
