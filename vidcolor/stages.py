"""Run pipeline stages on threads joined by bounded queues (memory stays bounded).

Decoding, encoding, NumPy, OpenCV and torch all release the GIL, so threads overlap them.
An error in any stage stops the others and is raised in the caller.
"""
from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

_END = object()
_POLL = 0.1


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` consecutive items (the last may be shorter)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def finished(value) -> Future:
    """A Future that already holds ``value``: what is done at once, among what is done later."""
    future: Future = Future()
    future.set_result(value)
    return future


class Workers:
    """Calls of a function on ``n`` threads (frames at once), as futures in the caller's order.

    With one worker there is no thread: the call runs on the thread that first asks for its
    ``result()`` or whether it is ``done()``.
    """

    def __init__(self, n: int, name: str):
        self.n = n
        self._pool = ThreadPoolExecutor(n, name) if n > 1 else None

    def submit(self, fn: Callable, *args):
        return self._pool.submit(fn, *args) if self._pool else _Later(fn, args)

    def map(self, fn: Callable, items: Iterable) -> Iterator:
        """``fn`` over ``items``, in order, at most two calls per worker ahead of the consumer."""
        pending: deque = deque()
        for item in items:
            pending.append(self.submit(fn, item))
            if len(pending) > 2 * self.n:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)


class _Later:
    def __init__(self, fn: Callable, args: tuple):
        self._call: tuple | None = (fn, args)
        self._value = None

    def done(self) -> bool:
        self.result()
        return True

    def result(self):
        if self._call is not None:
            fn, args = self._call
            self._value, self._call = fn(*args), None
        return self._value


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetch(items: Iterable, maxsize: int, name: str = "prefetch") -> Iterator:
    """Iterate ``items`` on a background thread, at most ``maxsize`` ahead of the consumer."""
    q: queue.Queue = queue.Queue(maxsize)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=_POLL)
                return True
            except queue.Full:
                pass
        return False

    def work():
        it = iter(items)
        try:
            for item in it:
                if not put(item):
                    break
            else:
                put(_END)
        except BaseException as e:  # handed to the consumer, which raises it
            put(_Failure(e))
        finally:
            close = getattr(it, "close", None)
            if close:
                close()

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


class BackgroundSink:
    """Feed items to ``consume`` on a background thread through a bounded queue."""

    def __init__(self, consume: Callable[[object], None], maxsize: int, name: str = "sink"):
        self._consume = consume
        self._q: queue.Queue = queue.Queue(maxsize)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def put(self, item) -> None:
        while True:
            self._raise_error()
            try:
                self._q.put(item, timeout=_POLL)
                return
            except queue.Full:
                pass

    def close(self) -> None:
        """Wait until everything is consumed; raise the consumer's error, if any."""
        self.put(_END)
        self._thread.join()
        self._raise_error()

    def abort(self) -> None:
        self._stop.set()
        self._thread.join()

    def _raise_error(self) -> None:
        if self._error is not None:
            self._stop.set()
            raise self._error

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._q.get(timeout=_POLL)
            except queue.Empty:
                continue
            if item is _END:
                return
            try:
                self._consume(item)
            except BaseException as e:
                self._error = e
                return
