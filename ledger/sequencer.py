"""The sequencer: gathers appends into batches and integrates each in one commit.

An append waits until its batch is committed (entries, tiles and the signed
checkpoint in one transaction) and only then learns its index. A batch closes
when it holds ``batch_size`` entries or ``batch_delay`` seconds after its first
entry arrived, whichever comes first; entries submitted together
(:meth:`Sequencer.submit_many`) close it as soon as they are all in it and
nothing else is waiting, since no delay would gather more of them. Several
sequencers, in one process or in many, may share a store: the store's write
lock orders their batches.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from ledger.errors import EntryError, StoreError
from ledger.store.log import EntryHook, LogStore, SignCheckpoint
from ledger.tiles import MAX_ENTRY_SIZE


@dataclass(frozen=True)
class Sequenced:
    """An appended entry: its index and the checkpoint that first commits it."""

    index: int
    tree_size: int
    checkpoint: str


class Sequencer:
    """Batches appends to a :class:`LogStore` from a background thread."""

    def __init__(
        self,
        store: LogStore,
        sign: SignCheckpoint,
        *,
        clock: Callable[[], datetime],
        batch_size: int = 256,
        batch_delay: float = 0.01,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._store = store
        self._sign = sign
        self._clock = clock
        self._batch_size = batch_size
        self._batch_delay = batch_delay
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the integrating thread (idempotent)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="carbonlabel-sequencer", daemon=True
                )
                self._thread.start()

    def close(self) -> None:
        """Integrate what is queued, then stop."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def submit(self, entry: bytes, hook: EntryHook | None = None) -> Future[Sequenced]:
        """Queue ``entry``; the future resolves after the commit that includes it.

        ``hook`` runs inside that commit's transaction with the entry's index
        (see :meth:`LogStore.integrate`). Raises EntryError at once for an
        empty or oversized entry, StoreError if the sequencer is closed.
        """
        _check_entry(entry)
        if self._closed:
            raise StoreError("the sequencer is closed")
        self.start()
        future: Future[Sequenced] = Future()
        self._queue.put(_Item(entry, hook, future))
        return future

    def submit_many(
        self, entries: Sequence[tuple[bytes, EntryHook | None]]
    ) -> list[Future[Sequenced]]:
        """Queue ``(entry, hook)`` pairs together; one future per entry, as :meth:`submit`.

        Every entry is checked before any is queued (EntryError, StoreError as
        :meth:`submit`: then nothing is queued). The batch holding the last of
        them closes without waiting out ``batch_delay``, so up to ``batch_size``
        entries commit in one transaction, more in consecutive ones. Each entry
        still commits or fails on its own (see :meth:`_integrate`).
        """
        for entry, _ in entries:
            _check_entry(entry)
        if self._closed:
            raise StoreError("the sequencer is closed")
        self.start()
        futures: list[Future[Sequenced]] = [Future() for _ in entries]
        last = len(entries) - 1
        for position, ((entry, hook), future) in enumerate(zip(entries, futures, strict=True)):
            self._queue.put(_Item(entry, hook, future, closes=position == last))
        return futures

    def append(
        self, entry: bytes, hook: EntryHook | None = None, timeout: float | None = 60.0
    ) -> Sequenced:
        """Append and wait for the commit (blocking)."""
        return self.submit(entry, hook).result(timeout)

    async def append_async(self, entry: bytes, hook: EntryHook | None = None) -> Sequenced:
        """Append and await the commit without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(entry, hook))

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            deadline = time.monotonic() + (0.0 if item.closes else self._batch_delay)
            while len(batch) < self._batch_size:
                remaining = deadline - time.monotonic()
                try:
                    if remaining > 0:
                        nxt = self._queue.get(timeout=remaining)
                    else:
                        nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
                if nxt.closes:  # take only what is already queued
                    deadline = 0.0
            self._integrate(batch)
        # drain whatever arrived before close()
        rest: list[_Item] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                rest.append(item)
        for start in range(0, len(rest), self._batch_size):
            self._integrate(rest[start : start + self._batch_size])

    def _integrate(self, batch: list[_Item]) -> None:
        live = [item for item in batch if item.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            self._commit(live)
        except Exception as exc:
            if len(live) == 1:
                live[0].future.set_exception(exc)
                return
            # One bad item (a failing hook) must not fail its neighbours: retry alone.
            for item in live:
                try:
                    self._commit([item])
                except Exception as single:
                    item.future.set_exception(single)

    def _commit(self, items: list[_Item]) -> None:
        appended = self._store.integrate(
            [i.entry for i in items], self._sign, self._clock(), [i.hook for i in items]
        )
        for offset, item in enumerate(items):
            item.future.set_result(
                Sequenced(appended.first_index + offset, appended.size, appended.checkpoint)
            )


def _check_entry(entry: bytes) -> None:
    if not entry:
        raise EntryError("entry is empty")
    if len(entry) > MAX_ENTRY_SIZE:
        raise EntryError(f"entry has {len(entry)} bytes; at most {MAX_ENTRY_SIZE} allowed")


@dataclass(frozen=True)
class _Item:
    entry: bytes
    hook: EntryHook | None
    future: Future[Sequenced]
    closes: bool = False
    """The last entry of a :meth:`Sequencer.submit_many` list: its batch need not wait."""
