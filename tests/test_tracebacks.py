"""The raised exception read from tracebacks printed by the real `traceback` module (and, for a
child's stderr, by a real child Python process), as RQ's worker stores them."""

from __future__ import annotations

import asyncio
import builtins
import subprocess
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.services.domain.causes import cause_message, normalized_exception_line
from gateway.services.domain.tracebacks import exception_line, exception_type, read_raised


def formatted(job: Callable[[], object]) -> str:
    """What RQ's worker stores for a job that raised: format_exception of what it caught."""
    try:
        job()
    except BaseException as exc:  # the worker catches everything too
        return "".join(traceback.format_exception(exc))
    raise AssertionError("the job did not raise")


def child_stderr(code: str) -> str:
    """The stderr of a real child Python process that dies of an exception."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "Traceback (most recent call last):" in done.stderr
    return done.stderr


# Python 3.11+ builtins (the project supports 3.10, where the tests using them skip).
ExceptionGroup = getattr(builtins, "ExceptionGroup", Exception)
BaseExceptionGroup = getattr(builtins, "BaseExceptionGroup", BaseException)
needs_groups = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="ExceptionGroup, TaskGroup and add_note are Python 3.11+"
)

CHILD_CRASH = "def crash():\n    raise ValueError('child crashed')\ncrash()"
CHILD_CHAIN = (
    "def crash():\n    try:\n        {}['k']\n    except KeyError:\n"
    "        raise ValueError('child crashed')\ncrash()"
)


def run_subprocess(stderr: str) -> None:
    raise RuntimeError("subprocess failed:\n" + stderr)


def test_a_child_traceback_quoted_in_the_message_does_not_type_the_failure():
    text = formatted(lambda: run_subprocess(child_stderr(CHILD_CRASH)))
    assert text.rstrip().endswith("ValueError: child crashed")  # what the old last-line rule read
    assert exception_type(text) == "RuntimeError"
    assert exception_line(text) == "RuntimeError: subprocess failed:"


def test_a_quoted_chained_child_traceback_is_message_text_too():
    stderr = child_stderr(CHILD_CHAIN)
    assert "During handling of the above exception" in stderr
    text = formatted(lambda: run_subprocess(stderr))
    assert exception_type(text) == "RuntimeError"
    assert exception_line(text) == "RuntimeError: subprocess failed:"


def report_upstream(upstream: str) -> None:
    raise RuntimeError("upstream job failed:\n" + upstream)


def test_quoting_a_failure_with_the_same_frames_on_the_same_lines_is_text():
    # A job quoting another job's stored failure: both passed through the same frames (RQ's
    # perform_job; here `formatted`) on the same lines, where a real chain's handler is on another.
    upstream = formatted(implicit_chain)
    text = formatted(lambda: report_upstream(upstream))
    assert exception_type(text) == "RuntimeError"
    assert exception_line(text) == "RuntimeError: upstream job failed:"


def implicit_chain() -> None:
    try:
        {}["k"]
    except KeyError:
        raise RuntimeError("while handling\nsecond line")  # noqa: B904


def explicit_chain() -> None:
    try:
        int("x")
    except ValueError as exc:
        raise LookupError("wrapped") from exc


def suppressed_chain() -> None:
    try:
        int("x")
    except ValueError:
        raise LookupError("replaced") from None


def test_chained_exceptions_are_named_by_the_outermost_link():
    implicit = formatted(implicit_chain)
    assert "During handling of the above exception" in implicit
    assert exception_type(implicit) == "RuntimeError"
    assert exception_line(implicit) == "RuntimeError: while handling"

    explicit = formatted(explicit_chain)
    assert "The above exception was the direct cause" in explicit
    assert exception_type(explicit) == "LookupError"
    assert exception_line(explicit) == "LookupError: wrapped"

    suppressed = formatted(suppressed_chain)
    assert "int()" not in suppressed
    assert exception_line(suppressed) == "LookupError: replaced"


def test_a_chain_whose_cause_was_caught_elsewhere_is_still_a_chain():
    # `raise ... from future.exception()`: the cause was caught in the pool's thread, a frame the
    # outer exception never passed through.
    def job() -> None:
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(int, "x")
            cause = future.exception()
        raise RuntimeError("task failed") from cause

    text = formatted(job)
    assert exception_type(text) == "RuntimeError"


def test_a_cause_that_quotes_a_traceback_and_the_real_chain_after_it():
    # multiprocessing re-raises a child's exception with a RemoteTraceback cause whose message is
    # the child's traceback: a first link without frames that quotes a traceback.
    class RemoteTraceback(Exception):
        pass

    def job() -> None:
        exc = ValueError("child crashed")
        exc.__cause__ = RemoteTraceback('\n"""\n' + child_stderr(CHILD_CHAIN) + '"""')
        raise exc

    text = formatted(job)
    assert text.startswith("tests.test_tracebacks.")
    assert exception_line(text) == "ValueError: child crashed"


def test_a_chain_whose_inner_message_quotes_a_child_traceback():
    def job() -> None:
        try:
            run_subprocess(child_stderr(CHILD_CHAIN))
        except RuntimeError as exc:
            raise ConnectionError("gave up") from exc

    assert exception_line(formatted(job)) == "ConnectionError: gave up"


def notes() -> None:
    exc = ValueError("bad input 7\nsecond line")
    exc.add_note("checked order 12 twice")
    exc.add_note('Traceback (most recent call last):\n  File "x.py", line 1, in f\nKeyError: 1')
    raise exc


@needs_groups
def test_notes_and_multi_line_messages_follow_the_exception_line():
    text = formatted(notes)
    assert "checked order 12 twice" in text
    assert exception_line(text) == "ValueError: bad input 7"
    assert normalized_exception_line(text) == "ValueError: bad input <num>"


def test_a_syntax_error_is_named_after_its_indented_location_lines():
    text = formatted(lambda: compile("x = (1,\n  2 +)", "broken.py", "exec"))
    assert '  File "broken.py", line 2' in text
    assert exception_type(text) == "SyntaxError"


async def _task_group(*errors: BaseException) -> None:
    async def fail(error: BaseException) -> None:
        raise error

    async with asyncio.TaskGroup() as group:
        for error in errors:
            group.create_task(fail(error))


def task_group(*errors: BaseException) -> Callable[[], None]:
    return lambda: asyncio.run(_task_group(*errors))


@needs_groups
def test_a_task_group_failure_is_an_exception_group_with_its_message():
    text = formatted(task_group(ValueError("v1"), ValueError("v2")))
    assert text.startswith("  + Exception Group Traceback")
    raised = read_raised(text)
    assert raised.type == "ExceptionGroup"
    assert raised.line == "ExceptionGroup: unhandled errors in a TaskGroup (2 sub-exceptions)"
    assert raised.sub_types == ("ValueError",)
    assert cause_message(raised) == "ExceptionGroup: unhandled errors in a TaskGroup [ValueError]"


@needs_groups
def test_task_group_causes_group_by_leaf_types_not_by_count():
    one = cause_message(read_raised(formatted(task_group(ValueError("a")))))
    three = cause_message(read_raised(formatted(task_group(*(ValueError(str(i)) for i in range(3))))))
    other = cause_message(read_raised(formatted(task_group(KeyError("k"), ValueError("v")))))
    assert one == three
    assert other == "ExceptionGroup: unhandled errors in a TaskGroup [KeyError, ValueError]"


if sys.version_info >= (3, 11):

    class BatchFailed(ExceptionGroup):
        pass


def nested_groups() -> None:
    inner = ExceptionGroup("inner\nsecond line", [TypeError("b"), BatchFailed("deep", [OSError(5)])])
    outer = BaseExceptionGroup("outer 3", [ValueError("a"), inner, KeyboardInterrupt()])
    outer.add_note("note on the group")
    raise outer


@needs_groups
def test_nested_groups_are_typed_by_the_outer_group_and_summarized_by_their_leaves():
    text = formatted(nested_groups)
    raised = read_raised(text)
    assert raised.type == "BaseExceptionGroup"
    assert raised.line == "BaseExceptionGroup: outer 3 (3 sub-exceptions)"
    assert raised.sub_types == ("KeyboardInterrupt", "OSError", "TypeError", "ValueError")
    assert (
        cause_message(raised)
        == "BaseExceptionGroup: outer <num> [KeyboardInterrupt, OSError, TypeError, ValueError]"
    )


@needs_groups
def test_a_user_group_subclass_with_chained_sub_exceptions_and_too_many_to_show():
    def job() -> None:
        try:
            explicit_chain()
        except LookupError as exc:
            raise BatchFailed("batch 9", [exc, *(KeyError(i) for i in range(20))]) from None

    text = formatted(job)
    assert "and 6 more exceptions" in text
    raised = read_raised(text)
    assert raised.type == "tests.test_tracebacks.BatchFailed"
    assert raised.sub_types == ("KeyError", "LookupError")


@needs_groups
def test_a_group_in_a_chain():
    def group_then_plain() -> None:
        try:
            asyncio.run(_task_group(ValueError("v")))
        except ExceptionGroup as exc:
            raise RuntimeError("after the group") from exc

    def plain_then_group() -> None:
        try:
            {}["k"]
        except KeyError:
            asyncio.run(_task_group(OSError("disk")))

    assert exception_line(formatted(group_then_plain)) == "RuntimeError: after the group"
    raised = read_raised(formatted(plain_then_group))
    assert (raised.type, raised.sub_types) == ("ExceptionGroup", ("OSError",))


def test_class_names_with_locals_and_non_ascii_letters():
    class Local(Exception):
        pass

    text = formatted(lambda: (_ for _ in ()).throw(Local("x")))
    assert exception_type(text) == (
        "tests.test_tracebacks.test_class_names_with_locals_and_non_ascii_letters.<locals>.Local"
    )
    error_class = type("Ошибка", (Exception,), {"__module__": "модуль"})
    assert exception_type(formatted(lambda: (_ for _ in ()).throw(error_class("x")))) == "модуль.Ошибка"


def quote_a_separator() -> None:
    raise RuntimeError(
        "see below\n\nDuring handling of the above exception, another exception occurred:\n\nnot a link"
    )


def test_a_quoted_separator_without_a_link_after_it_is_text():
    assert exception_type(formatted(quote_a_separator)) == "RuntimeError"


def test_limit_a_quoted_separator_and_link_without_a_quoted_traceback_before_them():
    # The documented limit of rule 2: nothing before the separator quotes a traceback, so the
    # quoted link is taken for the chain's last. Kept as a test so a change of rule is deliberate.
    tail = child_stderr(CHILD_CRASH)
    text = formatted(
        lambda: run_subprocess(
            "see below\n\nThe above exception was the direct cause of the following exception:\n\n" + tail
        )
    )
    assert exception_type(text) == "ValueError"


# Text that is not a traceback, or has no header: read by its last line, as before.


def test_text_without_a_traceback_is_read_by_its_last_line():
    assert exception_line("") is None
    assert exception_line(None) is None
    assert exception_line("\n  \n") is None
    assert (
        exception_type("x\nrequests.exceptions.HTTPError: 500 Server Error")
        == "requests.exceptions.HTTPError"
    )
    assert exception_type("x\nKeyboardInterrupt") == "KeyboardInterrupt"
    assert exception_type("x\n!!! not an exception line") is None
    assert exception_type("Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); ") is None
    assert exception_line("a\r\nValueError: 1\r\n") == "ValueError: 1"
    assert exception_line("a\rValueError: 2") == "ValueError: 2"
    assert exception_line("a\u2028ValueError: 3\n \t\n") == "ValueError: 3"
    assert exception_line("Traceback\n\tValueError: 4\n") == "ValueError: 4"


def test_a_preamble_before_the_traceback_is_skipped():
    text = "worker log:\n" + formatted(lambda: run_subprocess(child_stderr(CHILD_CRASH)))
    assert exception_type(text) == "RuntimeError"


def test_a_traceback_cut_off_in_its_frames_names_nothing():
    text = formatted(implicit_chain)
    cut = text[: text.rindex("RuntimeError")]
    assert read_raised(cut) is None


def test_box_like_text_nested_without_bound_is_read_without_recursing_without_bound():
    lines = []
    for depth in range(1, 2000):
        pad = "  " * depth
        lines += [
            pad + "| ExceptionGroup: level (1 sub-exception)",
            pad + "+-+---------------- 1 ----------------",
        ]
    raised = read_raised("\n".join(lines) + "\n" + "  " * 2000 + "| ValueError: deepest")
    assert (raised.type, raised.sub_types) == ("ExceptionGroup", ())
