"""Algorithms on top of the collectives, as ``torch.distributed.algorithms``: the join context manager for
uneven inputs (:class:`Join`, :class:`Joinable`, :class:`JoinHook`) and DDP's communication hooks."""

from .join import Join, Joinable, JoinHook

__all__ = ["Join", "JoinHook", "Joinable"]
