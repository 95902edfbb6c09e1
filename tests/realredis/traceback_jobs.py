"""Job functions for test_traceback_types.py, importable by the real `rq worker` (this directory is
on its PYTHONPATH). Each fails the way real jobs do, and each quotes a ValueError traceback
somewhere that is not the raised exception, as a child process's stderr does."""

from __future__ import annotations

import asyncio
import subprocess
import sys

CHILD = "def crash():\n    raise ValueError('child crashed')\n\ncrash()\n"


def child_stderr() -> str:
    """The stderr of a real child Python process dying of `ValueError: child crashed`."""
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=30)
    return done.stderr


def quote_child_traceback() -> None:
    raise RuntimeError("subprocess failed:\n" + child_stderr())


def chained_exception() -> None:
    try:
        int("not a number")
    except ValueError:
        raise RuntimeError("import step failed; the child said:\n" + child_stderr())  # noqa: B904


def raise_from() -> None:
    try:
        int("not a number")
    except ValueError as exc:
        raise RuntimeError("subprocess failed:\n" + child_stderr()) from exc


def exception_notes() -> None:
    error = RuntimeError("disk full")
    error.add_note("child stderr:\n" + child_stderr())
    raise error


async def _fail(error: BaseException) -> None:
    raise error


async def _task_group(errors: list[BaseException]) -> None:
    async with asyncio.TaskGroup() as group:
        for error in errors:
            group.create_task(_fail(error))


def task_group(*messages: str, exc_type: str = "ValueError") -> None:
    """A TaskGroup whose tasks raise `exc_type(message)`, one task per message."""
    error_class = {"ValueError": ValueError, "KeyError": KeyError}[exc_type]
    asyncio.run(_task_group([error_class(message) for message in messages]))
