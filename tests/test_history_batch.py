"""What one history commit writes (batch.py): parts of one minute merge (counts add up, samples
keep the largest), and a batch says when another would make it too big."""

from __future__ import annotations

from gateway.services.history.batch import BATCH_MINUTES, Batch, Minute


def test_parts_of_a_minute_merge():
    first, second = Minute(), Minute(queued=4, latency=1.5)
    first.count("failed")
    first.time(0.2)
    second.count("failed")
    second.count("finished")
    second.time(0.9)
    first.merge(second)
    assert (first.failed, first.finished, first.queued, first.latency) == (2, 1, 4, 1.5)
    assert first.run_max == 0.9 and sum(first.sketch.values()) == 2


def test_a_batch_fits_up_to_its_ids_and_minutes():
    batch, other = Batch(), Batch()
    batch.add(b"seen", b"registry", b"a")
    other.forget(b"seen", b"registry", [b"b", b"c"])
    assert batch.size() == 2 and other.size() == 3  # ids, and one EXPIRE per group
    assert batch.fits(other, most_ids=5) and not batch.fits(other, most_ids=4)
    for minute in range(BATCH_MINUTES + 1):
        other.minutes[minute, "default"].count("failed")
    assert not Batch().fits(other)


def test_a_batch_of_many_queues_is_cut_into_pieces_that_fit():
    batch = Batch()
    for queue in range(2 * BATCH_MINUTES + 1):
        batch.minutes[1, f"q{queue}"].queued = 1
        batch.renew(f"seen-{queue}".encode(), f"registry-{queue}".encode())
    pieces = batch.pieces(most_ids=50)
    assert all(len(piece.minutes) <= BATCH_MINUTES and piece.size() <= 50 for piece in pieces)
    assert sum(len(piece.minutes) for piece in pieces) == 2 * BATCH_MINUTES + 1
    assert sum(len(piece.ids) for piece in pieces) == 2 * BATCH_MINUTES + 1
