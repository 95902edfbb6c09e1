"""LazyCursors (services/domain/lazy_cursors.py): one cursor per item, each encoded when read."""

from __future__ import annotations

from gateway.services.domain.lazy_cursors import LazyCursors


def test_each_cursor_is_encoded_only_when_read_by_index_or_slice() -> None:
    encoded: list[int] = []

    def encode(item: int) -> str:
        encoded.append(item)
        return f"c{item}"

    cursors = LazyCursors([3, 5, 7], encode)
    assert len(cursors) == 3 and encoded == []
    assert cursors[-1] == "c7" and encoded == [7]
    assert cursors[0:2] == ["c3", "c5"] and list(cursors) == ["c3", "c5", "c7"]
    assert LazyCursors([], encode)[:] == []
