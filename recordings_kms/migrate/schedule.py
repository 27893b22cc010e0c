"""Run the copies: many recordings at once, the versions of one recording strictly one after another.

Teleport picks the version to play by ``LastModified``, which S3 lists to the second. Two copies of
one recording stamped in the same second would make Teleport's pick in the destination a tie, so
the next version of a recording is started no sooner than ``VERSION_GAP_SECONDS`` after the copy
before it returned (the copy before it was stamped before it returned), and each copy's timestamp
is checked against the one before it. Other recordings fill the thread pool meanwhile.

Ctrl-C stops new copies, lets the ones in flight finish (a multipart copy stops between parts and
aborts its upload), and reports what is left; the next run resumes from the copies' metadata.

Each copy is conditional on the destination key's current version (see ``migrate.copy``). When S3
refuses one (:class:`CopyConflictError`: a killed run's copy landed late, another run is copying, a
retried request had landed), the key is looked at again (``resurvey``) and judged like an earlier
run's copies: the versions now verified there are counted as found, and the key continues under the
state seen; anything else is reported. The refused copy itself is never simply sent again.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime

from recordings_kms.migrate.copy import CopyConflictError, CopyError
from recordings_kms.migrate.model import Copied, KeyState, NotCopied, SourceVersion
from recordings_kms.migrate.plan import KeyPlan
from recordings_kms.migrate.render import Stage

#: The pause between two versions of one recording: S3's LastModified has one-second resolution.
VERSION_GAP_SECONDS = 1.0


@dataclass
class Outcome:
    copied: list[Copied] = field(default_factory=list)
    not_copied: list[NotCopied] = field(default_factory=list)
    #: Versions S3 refused to copy because a verified copy was already there (another run, a killed run's
    #: late copy, an earlier attempt of this run): found by looking at the key again, not copied twice.
    found_copied: list[SourceVersion] = field(default_factory=list)
    #: Versions not attempted because the run stopped early.
    remaining: int = 0
    #: Why the run stopped early (Ctrl-C, the endpoint went away), or ``None``.
    stopped: str | None = None


@dataclass(frozen=True)
class _Refused:
    """A copy S3 refused (its precondition failed), and the key as a second look found it."""

    reason: str
    state: KeyState


@dataclass
class _KeyRun:
    plan: KeyPlan
    next: int = 0
    previous: datetime | None = None
    #: The ETag of the destination key's current version as last seen (``None``: none): the next copy's condition.
    current_etag: str | None = None

    @property
    def version(self) -> SourceVersion:
        return self.plan.pending[self.next]

    @property
    def destination_key(self) -> str:
        if self.plan.destination_key is None:  # plan_key never leaves versions pending without one
            raise ValueError(f"no destination key for {self.plan.source_key!r}")
        return self.plan.destination_key


class Scheduler:
    """Feeds a thread pool with one version per recording at a time, oldest first."""

    def __init__(
        self,
        copy: Callable[[SourceVersion, str, str | None], Copied],
        *,
        resurvey: Callable[[KeyPlan], KeyState],
        pool: ThreadPoolExecutor,
        concurrency: int,
        stop: threading.Event,
        stage: Stage,
        gap: float = VERSION_GAP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._copy = copy
        self._resurvey = resurvey
        self._pool = pool
        self._concurrency = concurrency
        self._stop = stop
        self._stage = stage
        self._gap = gap
        self._clock = clock
        self._ready: list[tuple[float, int, _KeyRun]] = []
        self._in_flight: dict[Future[Copied | _Refused], _KeyRun] = {}
        self._sequence = 0
        self._outcome = Outcome()

    def run(self, plans: list[KeyPlan], *, resumed_not_before: float) -> Outcome:
        """Copy every pending version; ``resumed_not_before`` delays recordings that already have copies.

        It is the clock reading (``time.monotonic``) one gap after the destination listing that
        showed those copies, so their next copy is stamped in a later second.
        """
        total = 0
        # Recordings with the most versions first: their one-second gaps then pass while the
        # single-version recordings are copied, instead of adding up at the end of the run.
        for plan in sorted(plans, key=lambda p: len(p.pending), reverse=True):
            if plan.pending:
                total += len(plan.pending)
                not_before = resumed_not_before if plan.last_copy_time is not None else 0.0
                self._push(not_before, _KeyRun(plan, previous=plan.last_copy_time, current_etag=plan.current_etag))
        try:
            self._loop()
        except KeyboardInterrupt:
            self._halt("interrupted (Ctrl-C)")
            try:
                self._drain()
            except KeyboardInterrupt:
                self._outcome.stopped = (
                    f"interrupted twice: {len(self._in_flight)} copies in flight were not checked (the next run checks "
                    "them)"
                )
        outcome = self._outcome
        outcome.remaining = total - len(outcome.copied) - len(outcome.not_copied) - len(outcome.found_copied)
        return outcome

    def _push(self, not_before: float, run: _KeyRun) -> None:
        self._sequence += 1
        heapq.heappush(self._ready, (not_before, self._sequence, run))

    def _halt(self, reason: str) -> None:
        if self._outcome.stopped is None:
            self._outcome.stopped = reason
        self._stop.set()

    def _loop(self) -> None:
        while self._ready or self._in_flight:
            if self._stop.is_set():
                self._drain()
                return
            now = self._clock()
            while self._ready and len(self._in_flight) < self._concurrency and self._ready[0][0] <= now:
                _, _, run = heapq.heappop(self._ready)
                self._in_flight[self._pool.submit(self._attempt, run)] = run
            if not self._in_flight:
                time.sleep(max(0.0, self._ready[0][0] - self._clock()))
                continue
            timeout = None
            if self._ready and len(self._in_flight) < self._concurrency:
                timeout = max(0.0, self._ready[0][0] - self._clock())
            done, _ = wait(self._in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                self._settle(future, self._in_flight.pop(future))

    def _drain(self) -> None:
        """Wait for the copies in flight and record them; start nothing new."""
        while self._in_flight:
            done, _ = wait(self._in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                self._settle(future, self._in_flight.pop(future))

    def _attempt(self, run: _KeyRun) -> Copied | _Refused:
        """One copy, in a pool thread; when S3 refuses it, the second look at the key, in the same thread."""
        try:
            return self._copy(run.version, run.destination_key, run.current_etag)
        except CopyConflictError as refused:
            try:
                state = self._resurvey(run.plan)
            except CopyError as failure:
                raise CopyError(f"{refused.reason}; {failure.reason}", unreachable=failure.unreachable) from failure
            return _Refused(refused.reason, state)

    def _settle(self, future: Future[Copied | _Refused], run: _KeyRun) -> None:
        try:
            copied = future.result()
        except CopyError as failure:
            if failure.unreachable:
                self._halt(f"stopped: {failure.reason}")
            self._fail(run, failure.reason)
            return
        if isinstance(copied, _Refused):
            self._settle_refused(run, copied)
            return
        if run.previous is not None and int(copied.last_modified.timestamp()) <= int(run.previous.timestamp()):
            self._fail(
                run,
                f"copied to {run.destination_key} version {copied.destination_version_id}, but S3 stamped it in the "
                "same second as the copy before it: Teleport could play either; remove that version and run again",
            )
            return
        self._outcome.copied.append(copied)
        self._stage.advance()
        run.previous = copied.last_modified
        run.current_etag = copied.etag
        run.next += 1
        if run.next < len(run.plan.pending):
            self._push(self._clock() + self._gap, run)

    def _settle_refused(self, run: _KeyRun, refused: _Refused) -> None:
        """Skip the versions the second look verified; report the version otherwise (never resend it)."""
        state = refused.state
        if state.problem is not None:
            self._fail(run, f"{refused.reason}; looked at again: {state.problem}")
            return
        position = len(run.plan.already_copied) + run.next  # the refused version's place among all the key's versions
        found = run.plan.pending[run.next : run.next + max(0, state.copied - position)]
        if not found:
            self._fail(
                run,
                f"{refused.reason}; looked at again, the key holds verified copies of the source's first "
                f"{state.copied} versions, not of this one: it was not copied; run again to plan it afresh",
            )
            return
        self._outcome.found_copied += found
        self._stage.advance(len(found))
        run.next += len(found)
        run.previous, run.current_etag = state.last_copy_time, state.current_etag
        if run.next < len(run.plan.pending):
            self._push(self._clock() + self._gap, run)

    def _fail(self, run: _KeyRun, reason: str) -> None:
        """Record a version that was not copied; the newer versions of that recording wait for it."""
        failed = run.version
        self._outcome.not_copied.append(NotCopied(failed, run.destination_key, reason))
        waiting = run.plan.pending[run.next + 1 :]
        self._outcome.not_copied += [
            NotCopied(v, run.destination_key, f"waits for version {failed.version_id} (copied oldest first)")
            for v in waiting
        ]
        self._stage.advance(1 + len(waiting))
