"""A page's cursors as a sequence that encodes each one only when it is read: a page answers a
cursor per item, but a search scan reads only the last, and a queue window's encoding costs a
base64 of several ids."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar, overload

T = TypeVar("T")


class LazyCursors(Sequence[str], Generic[T]):
    """`encode(item)` for each of `items`, computed on read."""

    def __init__(self, items: Sequence[T], encode: Callable[[T], str]) -> None:
        self._items = items
        self._encode = encode

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._encode(item) for item in self._items[index]]
        return self._encode(self._items[index])
