"""The cause line failure groups are keyed by: values normalized, exception groups summarized."""

from gateway.services.domain.causes import cause_message, normalize_line, normalized_exception_line
from gateway.services.domain.tracebacks import Raised

TRACEBACK = """Traceback (most recent call last):
  File "/app/jobs.py", line 12, in parse_report
    raise ValueError(f"boom {n}")
ValueError: boom 7

"""


def test_values_are_normalized_so_one_bug_is_one_line():
    assert normalized_exception_line(TRACEBACK) == normalized_exception_line(TRACEBACK.replace("7", "12345"))
    assert normalized_exception_line("KeyError: 'user-42'") == "KeyError: <str>"
    assert normalized_exception_line('KeyError: "a"') == "KeyError: <str>"
    assert (
        normalized_exception_line("LookupError: order 3f2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f70 missing")
        == "LookupError: order <uuid> missing"
    )
    assert normalized_exception_line("MemoryError: at 0x7f3a2c") == "MemoryError: at <hex>"
    assert normalized_exception_line("E: sha deadbeef1234") == "E: sha <hex>"
    assert normalized_exception_line("TimeoutError: took 2.5s of 30") == "TimeoutError: took <num>s of <num>"
    assert normalized_exception_line("ValueError: boom") != normalized_exception_line("TypeError: boom")
    assert normalized_exception_line(None) is None
    assert normalize_line(None) is None


def test_timestamps_are_one_placeholder_whatever_their_hour():
    # Plain-number replacement alone left the `T12`/`T13` of ISO timestamps behind.
    at_noon = normalized_exception_line("ValueError: stale since 2024-01-01T12:00:00Z")
    at_one = normalized_exception_line("ValueError: stale since 2024-03-09T13:05:59.123+00:00")
    assert at_noon == at_one == "ValueError: stale since <datetime>"
    # RQ's own text for abandoned jobs carries str(datetime): a space, microseconds and an offset.
    assert normalized_exception_line(
        "Moved to FailedJobRegistry, due to AbandonedJobError, at 2026-11-28 11:53:36.123456+00:00"
    ) == ("Moved to FailedJobRegistry, due to AbandonedJobError, at <datetime>")


def test_dotted_numbers_are_one_placeholder():
    # Plain-number replacement alone kept `.0.5` of `10.0.0.5`, splitting one outage per host.
    first = normalized_exception_line("ConnectionError: 10.0.0.5:6379 refused")
    second = normalized_exception_line("ConnectionError: 10.0.0.6:6379 refused")
    assert first == second == "ConnectionError: <num>:<num> refused"


def test_an_exception_group_is_keyed_by_its_message_and_leaf_types_not_its_count():
    two = Raised("ExceptionGroup: batch 4 failed (2 sub-exceptions)", "ExceptionGroup", ("KeyError",), True)
    one = Raised("ExceptionGroup: batch 5 failed (1 sub-exception)", "ExceptionGroup", ("KeyError",), True)
    assert cause_message(two) == cause_message(one) == "ExceptionGroup: batch <num> failed [KeyError]"
    # A group whose boxes could not be read keeps its message alone.
    assert cause_message(Raised("ExceptionGroup: x (3 sub-exceptions)", "ExceptionGroup", (), True)) == (
        "ExceptionGroup: x"
    )
    # Only a group's count is dropped: the same text ending a plain message stays.
    plain = Raised("ValueError: (2 sub-exceptions)", "ValueError")
    assert cause_message(plain) == "ValueError: (<num> sub-exceptions)"
    assert cause_message(None) is None
