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
