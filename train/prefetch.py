"""Batches made and placed on the devices ahead of the step that needs them.

A thread builds the host batch of each call (``train.data.train_batch``, a pure function of seed
and step) and copies it to the devices, ``depth`` calls ahead of the training loop, so that the
loop only dispatches steps: the device never waits for the host to cut and copy bytes. Which
bytes each step gets does not depend on the thread (the same seed and step give the same batch),
so a resumed run and a run on another topology see exactly the batches of an uninterrupted one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

# Calls prepared ahead: enough to cover a slow batch, few enough to hold little memory.
DEPTH = 2


class Prefetcher:
    """``next()`` returns ``make(step)`` for ``step`` = ``start``, ``start + every``, ... < ``end``.

    ``make`` runs in a background thread, at most ``depth`` calls ahead. An error in ``make``
    is raised by the ``next()`` that would have returned its batch. ``close()`` (or leaving the
    ``with`` block) stops the thread; batches made but not taken are dropped.
    """

    def __init__(
        self,
        make: Callable[[int], Any],
        start: int,
        end: int,
        every: int,
        depth: int = DEPTH,
    ) -> None:
        if depth < 1 or every < 1:
            raise ValueError(f"depth and every must be >= 1, got {depth} and {every}")
        self._make = make
        self._steps = range(start, end, every)
        self._queue: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._expected = iter(self._steps)
        self._thread = threading.Thread(target=self._work, name="train-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: tuple[int, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        for step in self._steps:
            try:
                item: tuple[int, Any] = (step, self._make(step))
            except BaseException as e:  # noqa: BLE001  (handed to the loop, raised there)
                self._put((step, e))
                return
            if not self._put(item):
                return

    def next(self) -> Any:
        """The next call's batch (blocks until it is ready)."""
        expected = next(self._expected, None)
        if expected is None:
            raise StopIteration("the prefetcher has no more steps")
        step, value = self._queue.get()
        if isinstance(value, BaseException):
            raise value
        # The thread makes the steps in order; a mismatch would be a bug here, never data.
        assert step == expected, (step, expected)
        return value

    def close(self) -> None:
        """Stops the thread and waits for it (at most the time of one ``make``)."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
