"""Iterating on a thread of one's own: the next batches read (and prepared) while the caller works on this one."""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator

__all__ = ["read_ahead"]

_DONE = object()  # the end of the batches (a prepared batch may be anything, None included)


def read_ahead(batches: Iterator[Any], depth: int, prepare: Callable[[Any], Any] | None = None) -> Iterator[Any]:
    """``batches`` drawn by a thread of their own, at most ``depth`` (1 or more) ahead, each passed through
    ``prepare`` on that thread where given; what they raise is raised here. The thread starts a batch only
    once the caller has taken the one before it from the queue: a batch drawn and waiting for room held one
    batch more in memory for nothing. The caller gone (done, an error, Ctrl-C), the thread stops and closes
    them (their reader with them)."""
    if depth < 1:
        raise ValueError("read_ahead needs a depth of 1 or more")
    ready: queue.SimpleQueue = queue.SimpleQueue()
    room = threading.Semaphore(depth)
    stop = threading.Event()

    def draw() -> None:
        end = None
        try:
            try:
                while _room(room, stop):
                    batch = next(batches, _DONE)
                    if batch is _DONE:
                        break
                    ready.put((batch if prepare is None else prepare(batch), None))
                    del batch
            finally:
                close = getattr(batches, "close", None)
                if close is not None:
                    close()
        except BaseException as exc:  # noqa: BLE001  (raised in the caller's thread)
            end = exc
        finally:
            ready.put((_DONE, end))  # whatever happened: the caller waits for it

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        while True:
            batch, end = ready.get()
            if batch is _DONE:
                if end is not None:
                    raise end
                return
            room.release()
            yield batch
    finally:
        stop.set()
        thread.join()


def _room(room: threading.Semaphore, stop: threading.Event) -> bool:
    """Whether a place in the queue came free before the caller stopped."""
    while not stop.is_set():
        if room.acquire(timeout=0.05):
            return True
    return False
