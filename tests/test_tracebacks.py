from gateway.services.tracebacks import exception_type, last_line, normalized_last_line

TRACEBACK = """Traceback (most recent call last):
  File "/app/jobs.py", line 12, in parse_report
    raise ValueError(f"boom {n}")
ValueError: boom 7

"""


def test_last_line_is_the_last_non_empty_line():
    assert last_line(TRACEBACK) == "ValueError: boom 7"
    assert last_line("") is None
    assert last_line(None) is None
    assert last_line("\n  \n") is None


def test_exception_type_is_read_from_the_last_line():
    assert exception_type(TRACEBACK) == "ValueError"
    assert (
        exception_type("x\nrequests.exceptions.HTTPError: 500 Server Error")
        == "requests.exceptions.HTTPError"
    )
    assert exception_type("x\nKeyboardInterrupt") == "KeyboardInterrupt"
    assert exception_type("x\n!!! not an exception line") is None
    assert exception_type(None) is None


def test_values_are_normalized_so_one_bug_is_one_line():
    assert normalized_last_line(TRACEBACK) == normalized_last_line(TRACEBACK.replace("7", "12345"))
    assert normalized_last_line("KeyError: 'user-42'") == "KeyError: <str>"
    assert normalized_last_line('KeyError: "a"') == "KeyError: <str>"
    assert (
        normalized_last_line("LookupError: order 3f2b8c1e-9a4d-4c2e-8f1a-2b3c4d5e6f70 missing")
        == "LookupError: order <uuid> missing"
    )
    assert normalized_last_line("MemoryError: at 0x7f3a2c") == "MemoryError: at <hex>"
    assert normalized_last_line("E: sha deadbeef1234") == "E: sha <hex>"
    assert normalized_last_line("TimeoutError: took 2.5s of 30") == "TimeoutError: took <num>s of <num>"
    assert normalized_last_line("ValueError: boom") != normalized_last_line("TypeError: boom")


def test_timestamps_are_one_placeholder_whatever_their_hour():
    # Plain-number replacement alone left the `T12`/`T13` of ISO timestamps behind.
    at_noon = normalized_last_line("ValueError: stale since 2024-01-01T12:00:00Z")
    at_one = normalized_last_line("ValueError: stale since 2024-03-09T13:05:59.123+00:00")
    assert at_noon == at_one == "ValueError: stale since <datetime>"
    # RQ's own text for abandoned jobs carries str(datetime): a space, microseconds and an offset.
    assert normalized_last_line(
        "Moved to FailedJobRegistry, due to AbandonedJobError, at 2026-11-28 11:53:36.123456+00:00"
    ) == ("Moved to FailedJobRegistry, due to AbandonedJobError, at <datetime>")


def test_dotted_numbers_are_one_placeholder():
    # Plain-number replacement alone kept `.0.5` of `10.0.0.5`, splitting one outage per host.
    first = normalized_last_line("ConnectionError: 10.0.0.5:6379 refused")
    second = normalized_last_line("ConnectionError: 10.0.0.6:6379 refused")
    assert first == second == "ConnectionError: <num>:<num> refused"


def test_last_line_handles_every_line_break_and_blank_tail():
    assert last_line("a\r\nValueError: 1\r\n") == "ValueError: 1"
    assert last_line("a\rValueError: 2") == "ValueError: 2"
    assert last_line("a\u2028ValueError: 3\n \t\n") == "ValueError: 3"
    assert last_line("Traceback\n\tValueError: 4\n") == "ValueError: 4"
