"""``minigrad.futures.Future``: the result of work that finishes later, as ``torch.futures.Future``.

A collective started with ``async_op=True`` returns a
:class:`minigrad.distributed.Work`; ``work.get_future()`` is a Future of it
whose value is the list of the collective's output tensors, and
DistributedDataParallel's communication hooks return Futures of a bucket's
averaged gradients. ``then(callback)`` chains a step to run on the value.

minigrad runs no background threads: a Future is completed either by
:meth:`Future.set_result` / :meth:`Future.set_exception`, or, for one made
from a collective, when somebody waits for it (``wait()``, ``value()`` after
a ``wait``, a chained Future's ``wait()``), which then waits for MPI. The
callbacks run at completion, in the order they were added, as PyTorch's.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import DistributedError

__all__ = ["Future", "collect_all", "wait_all"]


class Future:
    """A value that becomes available later: ``wait()`` for it, ``then(fn)`` to chain, ``set_result`` to give it.

    ``done()`` says whether it is complete; ``value()`` is the value of a
    completed Future (it re-raises the exception of a failed one);
    ``add_done_callback(fn)`` runs ``fn(self)`` at completion, ``then(fn)``
    likewise but returns a new Future holding ``fn(self)``'s result (or its
    exception). ``devices`` is accepted for PyTorch's signature.
    """

    __slots__ = ("_done", "_value", "_error", "_callbacks", "_driver", "_poll")

    def __init__(self, *, devices=None):
        self._done = False
        self._value = None
        self._error: BaseException | None = None
        self._callbacks: list = []
        self._driver: Callable[[], None] | None = None  # completes the Future (waits for what is behind it)
        self._poll: Callable[[], bool] | None = None  # True when what is behind it has finished (then completes it)

    # --- completing ---------------------------------------------------------------------------------
    def set_result(self, result) -> None:
        """Complete the Future with ``result`` and run its callbacks. DistributedError if already complete."""
        self._complete(result, None)

    def set_exception(self, result: BaseException) -> None:
        """Complete the Future with an exception, which ``wait()`` and ``value()`` then raise."""
        if not isinstance(result, BaseException):
            raise TypeError(f"Future.set_exception: expected an exception, got {type(result).__name__}")
        self._complete(None, result)

    def _complete(self, value, error) -> None:
        if self._done:
            raise DistributedError("Future: set_result or set_exception called on a Future that is already complete")
        self._done, self._value, self._error = True, value, error
        self._driver = self._poll = None
        callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            fn(self)

    # --- asking -------------------------------------------------------------------------------------
    def done(self) -> bool:
        """True once the Future has a value or an exception (for a collective: once MPI has finished it)."""
        if not self._done and self._poll is not None:
            self._poll()
        return self._done

    def wait(self):
        """Block until the Future is complete and return its value (raise its exception).

        Raises DistributedError for a Future that nothing can complete
        (neither a collective behind it nor a ``set_result`` yet: with no
        other thread, waiting would never end).
        """
        if not self._done:
            if self._driver is None:
                raise DistributedError(
                    "Future.wait: nothing will complete this Future (no collective behind it and no set_result "
                    "yet); minigrad has no other thread that could"
                )
            self._driver()
        return self.value()

    def value(self):
        """The value of a completed Future; its exception re-raised if it failed. DistributedError if not complete."""
        if not self._done:
            raise DistributedError("Future.value: the Future is not complete yet; call wait() first")
        if self._error is not None:
            raise self._error
        return self._value

    # --- chaining -----------------------------------------------------------------------------------
    def add_done_callback(self, callback: Callable[[Future], None]) -> None:
        """Run ``callback(self)`` when the Future completes (now, if it already has)."""
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def then(self, callback: Callable[[Future], object]) -> Future:
        """A new Future that completes with ``callback(self)`` once this one completes.

        If the callback raises (``fut.value()`` of a failed Future does), the new
        Future fails with a DistributedError (a RuntimeError) "Got the following
        error when running the callback: <type>: <message>", as PyTorch's, whose
        ``__cause__`` is the callback's exception.
        """
        child = Future()

        def run(parent: Future) -> None:
            try:
                result = callback(parent)
            except Exception as exc:  # noqa: BLE001 (handed to the chained Future, wrapped as PyTorch's)
                error = DistributedError(
                    f"Got the following error when running the callback: {type(exc).__name__}: {exc}"
                )
                error.__cause__ = exc
                child.set_exception(error)
            else:
                child.set_result(result)

        if self._done:
            run(self)
        else:
            child._driver = self.wait
            child._poll = self.done
            self._callbacks.append(run)
        return child

    def __repr__(self) -> str:
        return f"<minigrad.futures.Future {'done' if self._done else 'pending'}>"


def collect_all(futures: list) -> Future:
    """A Future that completes, with the list of ``futures``, once every one of them has completed."""
    out = Future()
    futures = list(futures)

    def drive():
        for f in futures:
            if not f._done:
                try:
                    f.wait()
                except Exception:  # noqa: BLE001, S110 (a failed sub-future is still complete; its value() re-raises)
                    pass
        if not out._done:
            out.set_result(futures)

    def poll():
        if all(f.done() for f in futures) and not out._done:
            out.set_result(futures)

    if all(f._done for f in futures):
        out.set_result(futures)
    else:
        out._driver, out._poll = drive, poll
    return out


def wait_all(futures: list) -> list:
    """Wait for every Future in ``futures``; return their values (raise the first exception met)."""
    return [f.wait() for f in futures]
