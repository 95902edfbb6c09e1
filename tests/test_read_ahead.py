"""read_ahead (gateway/services/reads/read_ahead.py): the next item is read while the consumer
works on the one before, in order; an error comes out where its item would have; a consumer that
stops early leaves the producer at most one item further."""

from __future__ import annotations

import threading

import pytest

from gateway.services.reads.read_ahead import read_ahead


def test_items_come_in_order():
    assert list(read_ahead(iter(range(50)))) == list(range(50))


def test_the_next_item_is_read_while_the_consumer_holds_the_one_before():
    second_read = threading.Event()

    def items():
        yield 1
        second_read.set()
        yield 2

    ahead = read_ahead(items())
    assert next(ahead) == 1
    # Still holding item 1: the producer goes on to item 2 meanwhile (no sleep: an event).
    assert second_read.wait(timeout=10)
    assert list(ahead) == [2]


def test_an_error_is_raised_where_its_item_would_have_come():
    def items():
        yield 1
        raise ValueError("damaged")

    ahead = read_ahead(items())
    assert next(ahead) == 1
    with pytest.raises(ValueError, match="damaged"):
        next(ahead)


def test_a_consumer_that_stops_early_leaves_the_producer_at_most_one_item_further():
    produced: list[int] = []
    finished = threading.Event()

    def items():
        try:
            for index in range(1000):
                produced.append(index)
                yield index
        finally:
            finished.set()

    ahead = read_ahead(items())
    assert next(ahead) == 0
    ahead.close()
    assert finished.wait(timeout=10)  # the producer stopped and closed the items
    # Items 0, 1 and maybe 2: one waiting in the queue, one being read when the consumer stopped.
    assert len(produced) <= 3
