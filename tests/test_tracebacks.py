from gateway.services.tracebacks import exception_line, exception_type, normalized_exception_line

TRACEBACK = """Traceback (most recent call last):
  File "/app/jobs.py", line 12, in parse_report
    raise ValueError(f"boom {n}")
ValueError: boom 7

"""


def test_last_line_is_the_last_non_empty_line():
    assert exception_line(TRACEBACK) == "ValueError: boom 7"
    assert exception_line("") is None
    assert exception_line(None) is None
    assert exception_line("\n  \n") is None


def test_exception_type_is_read_from_the_exception_line():
    assert exception_type(TRACEBACK) == "ValueError"
    assert (
        exception_type("x\nrequests.exceptions.HTTPError: 500 Server Error")
        == "requests.exceptions.HTTPError"
    )
    assert exception_type("x\nKeyboardInterrupt") == "KeyboardInterrupt"
    assert exception_type("x\n!!! not an exception line") is None
    assert exception_type(None) is None


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


def test_last_line_handles_every_line_break_and_blank_tail():
    assert exception_line("a\r\nValueError: 1\r\n") == "ValueError: 1"
    assert exception_line("a\rValueError: 2") == "ValueError: 2"
    assert exception_line("a\u2028ValueError: 3\n \t\n") == "ValueError: 3"
    assert exception_line("Traceback\n\tValueError: 4\n") == "ValueError: 4"


MULTI_LINE = """Traceback (most recent call last):
  File "/usr/lib/python3.11/site-packages/rq/job.py", line 1400, in _execute
    return self.func(*self.args, **self.kwargs)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/app/jobs.py", line 3, in parse
    raise ValueError("bad input 1\\nHint: check the payload")
ValueError: bad input 1
Hint: check the payload
"""


def test_a_message_over_several_lines_or_with_notes_is_named_by_its_first_line():
    assert exception_line(MULTI_LINE) == "ValueError: bad input 1"
    assert exception_type(MULTI_LINE) == "ValueError"
    assert normalized_exception_line(MULTI_LINE) == "ValueError: bad input <num>"
    noted = TRACEBACK.rstrip() + "\nchecked order 12 twice\n"
    assert exception_type(noted) == "ValueError"
    assert exception_line(noted) == "ValueError: boom 7"


def test_chained_exceptions_are_named_by_the_last_one():
    chained = (
        TRACEBACK.rstrip()
        + "\n\nThe above exception was the direct cause of the following exception:\n\n"
        + 'Traceback (most recent call last):\n  File "/app/x.py", line 9, in run\n'
        + "    raise RuntimeError('wrapped')\nRuntimeError: wrapped\n"
    )
    assert exception_type(chained) == "RuntimeError"
