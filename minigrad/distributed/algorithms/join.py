"""Training on uneven inputs: the join context manager, as ``torch.distributed.algorithms.join``.

Collectives need every rank of the group: when one rank runs out of batches
while the others go on, their next gradient allreduce waits for it forever.
Inside ``with Join([model, ...]):`` a rank that leaves its training loop
early *joins*: in ``__exit__`` it keeps answering the collectives the
others still make, until they have all joined too.

The protocol, one round per training iteration of the ranks still active:

- every active rank's :class:`Joinable` calls :meth:`Join.notify_join_context`
  before its own collectives (DistributedDataParallel does it at the start
  of each forward): an allreduce of 1;
- a joined rank's ``__exit__`` loop makes the matching allreduce of 0; the
  sum is the number of ranks still active. When it is 0 every rank has
  joined and the loop ends; otherwise each joinable's
  :meth:`JoinHook.main_hook` shadows that iteration's collectives (for
  DistributedDataParallel: the gradient allreduces, with zeros);
- once all have joined, each :meth:`JoinHook.post_hook` runs once, told
  whether this rank was one of the last to join (DistributedDataParallel
  then copies the model of the highest-ranked last joiner to every rank,
  so the ranks end equal).

With ``throw_on_early_termination=True`` the first rank to join makes the
others raise instead (they learn it from a second allreduce in
``notify_join_context``), for programs that would rather stop than train on
fewer ranks.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from typing import Any, NamedTuple

from ...errors import ArgumentError, DistributedError

_SKEW_WARNING = 1000  # shadowed iterations after which a joined rank warns of the skew, as PyTorch


class JoinHook:
    """What a :class:`Joinable` does once its rank has joined: override ``main_hook`` and ``post_hook``."""

    def main_hook(self) -> None:
        """Shadow one training iteration's collectives of the ranks still active (called once per iteration)."""

    def post_hook(self, is_last_joiner: bool) -> None:
        """Run once after every rank has joined; ``is_last_joiner``: this rank was one of the last to join."""


class _JoinConfig(NamedTuple):
    """What a joinable needs to know of the context manager around it."""

    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config() -> _JoinConfig:
        """The configuration outside any join context manager: join logic off."""
        return _JoinConfig(enable=False, throw_on_early_termination=False, is_first_joinable=False)


class Joinable(ABC):
    """A class whose per-iteration collectives a joined rank can shadow (DistributedDataParallel is one).

    Implement :meth:`join_hook` and the properties :attr:`join_device` and
    :attr:`join_process_group`, call ``Joinable.__init__`` in the
    constructor, and call :meth:`Join.notify_join_context` before each
    iteration's own collectives.
    """

    @abstractmethod
    def __init__(self):
        super().__init__()
        self._join_config = _JoinConfig.construct_disabled_join_config()

    @abstractmethod
    def join_hook(self, **kwargs) -> JoinHook:
        """The :class:`JoinHook` of this joinable; ``kwargs`` are those given to :class:`Join`."""

    @property
    @abstractmethod
    def join_device(self) -> Any:
        """The device of the context manager's own small collectives."""

    @property
    @abstractmethod
    def join_process_group(self) -> Any:
        """The process group of the context manager's own collectives (None: the default group)."""


class Join:
    """Context manager for training loops whose ranks have different numbers of inputs.

    ``joinables``: the participating :class:`Joinable` objects (at least
    one; their hooks run in this order; all in the same process group).
    ``enable=False`` turns the context manager into a no-op (for inputs
    known to be even). ``throw_on_early_termination=True`` makes every
    rank raise DistributedError (a RuntimeError, as PyTorch's) as soon as
    one rank joins, instead of shadowing. Other keyword arguments go to
    each joinable's ``join_hook`` (DistributedDataParallel takes
    ``divide_by_initial_world_size``).

    An exception raised inside the block propagates at once, without
    shadowing (the other ranks are then left waiting, as in PyTorch: with
    a group ``timeout`` their waits end in DistributedError).
    """

    def __init__(self, joinables: list, enable: bool = True, throw_on_early_termination: bool = False, **kwargs):
        if len(joinables) == 0:
            raise ArgumentError("Join: the join context manager requires at least one joinable")
        for j in joinables:
            if not isinstance(j, Joinable):
                raise TypeError(f"Join: every joinable must be a Joinable, got {type(j).__name__}")
        self._joinables = list(joinables)
        self._join_hooks = [j.join_hook(**kwargs) for j in self._joinables]
        self._enable = bool(enable)
        self._throw_on_early_termination = bool(throw_on_early_termination)
        for k, j in enumerate(self._joinables):
            j._join_config = _JoinConfig(self._enable, self._throw_on_early_termination, is_first_joinable=k == 0)
        groups = [j.join_process_group for j in self._joinables]
        if any(g is not groups[0] for g in groups[1:]):
            raise ArgumentError("Join: all joinables must use the same process group (Using join context manager "
                                "with multiple process groups)")  # fmt: skip
        self._process_group = groups[0]
        self._device = self._joinables[0].join_device

    def __enter__(self):
        return None

    def __exit__(self, exc_type, exc, traceback):
        try:
            if self._enable and exc_type is None:
                self._shadow_until_all_joined()
        finally:
            for j in self._joinables:
                j._join_config = _JoinConfig.construct_disabled_join_config()

    def _shadow_until_all_joined(self) -> None:
        from .. import get_rank

        is_last_joiner, rounds = True, 0
        while self._count(0.0) > 0:  # matches the active ranks' notify_join_context allreduce of 1
            if self._throw_on_early_termination:
                self._count(1.0)  # answers their second allreduce: they raise too
                raise DistributedError(f"Rank {get_rank(self._process_group)} exhausted all inputs.")
            for hook in self._join_hooks:
                hook.main_hook()
            is_last_joiner = False
            rounds += 1
            if rounds == _SKEW_WARNING + 1:
                warnings.warn(
                    f"Detected uneven input skew of greater than {_SKEW_WARNING}. This means that rank "
                    f"{get_rank(self._process_group)} has at least {_SKEW_WARNING} fewer inputs than other "
                    "currently-active ranks. This level of skew could lead to performance degradation during "
                    "training.",
                    stacklevel=3,
                )
        for hook in self._join_hooks:
            hook.post_hook(is_last_joiner)

    def _count(self, mine: float) -> float:
        return _sum_over_ranks(mine, self._process_group, self._device)

    @staticmethod
    def notify_join_context(joinable: Joinable):
        """Tell the context manager that this rank is still active; call before each iteration's collectives.

        Only the first joinable given to :class:`Join` communicates (the call
        is a no-op for the others and outside a context manager, returning
        None); it returns the finished allreduce's :class:`Work`, whose
        ``result()[0]`` holds the number of ranks still active. With
        ``throw_on_early_termination`` it raises DistributedError, on every
        active rank, once some rank has joined.
        """
        config = getattr(joinable, "_join_config", None)
        if config is None:
            raise TypeError(f"Join: {type(joinable).__name__}'s constructor must call Joinable.__init__")
        if not config.is_first_joinable or not config.enable:
            return None
        from ... import ones
        from .. import all_reduce

        active = ones(1, device=joinable.join_device)
        work = all_reduce(active, group=joinable.join_process_group, async_op=True)
        work.wait()
        if config.throw_on_early_termination and _sum_over_ranks(0.0, joinable.join_process_group,
                                                                 joinable.join_device) > 0:  # fmt: skip
            raise DistributedError("Detected at least one rank that exhausted inputs. Throwing across all ranks.")
        return work


def _sum_over_ranks(mine: float, group, device) -> float:
    """The sum over the group's ranks of one number from each.

    Always the non-blocking allreduce, waited for: it must match
    :meth:`Join.notify_join_context`'s on the other ranks (MPI never matches
    a blocking collective with a non-blocking one).
    """
    from ... import tensor
    from .. import all_reduce

    t = tensor([mine], device=device)
    all_reduce(t, group=group, async_op=True).wait()
    return float(t.item())
