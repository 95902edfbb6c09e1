"""Per-job codes into the lists of a bulk answer: one rule for every bulk action.

A code equal to `done_code` puts the id in `done`; a code in `errors_for` puts (id, that error)
in `errors`; any other code is a job another caller took first, in neither list, unless the
caller named the id (`missing` then gives its error: the id was not where the caller said)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from gateway.services.domain.models import JobError


class Tally:
    def __init__(
        self,
        done_code: int,
        errors_for: Mapping[int, str],
        missing: Callable[[str], str] | None = None,
    ) -> None:
        self._done_code = done_code
        self._errors_for = errors_for
        self._missing = missing
        self.done: list[str] = []
        self.errors: list[JobError] = []

    def add(self, job_ids: Iterable[str], codes: Iterable[int]) -> None:
        for job_id, code in zip(job_ids, codes, strict=True):
            if code == self._done_code:
                self.done.append(job_id)
            elif code in self._errors_for:
                self.errors.append(JobError(job_id, self._errors_for[code]))
            elif self._missing is not None:
                self.errors.append(JobError(job_id, self._missing(job_id)))
