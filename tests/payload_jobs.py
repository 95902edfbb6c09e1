"""Job functions taking any arguments, for the --hide-payloads property test (run in-process)."""

from __future__ import annotations


def decline(*args, **kwargs) -> None:
    raise RuntimeError("declined")  # quotes nothing: exception text stays visible


def echo(*args, **kwargs) -> dict:
    return {"args": list(args), "kwargs": kwargs}
