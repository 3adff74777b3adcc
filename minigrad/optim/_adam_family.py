"""What Adamax, NAdam and RAdam share: PyTorch's keyword arguments that change nothing here, and checked betas."""

from __future__ import annotations

from ..errors import ArgumentError


def torch_flags(foreach, maximize: bool, capturable: bool, differentiable: bool) -> dict:
    """The group entries PyTorch keeps for these flags, so that param groups and state dicts carry PyTorch's keys.

    ``foreach`` (one fused loop over all parameters) and ``capturable`` (keep
    the step count on the device, for CUDA-graph capture) choose how PyTorch
    computes the same numbers; minigrad has one way, so they are accepted and
    ignored. ``differentiable=True`` (autograd through the update) is refused
    by :func:`check_flags`: ignoring it would silently give no gradient.
    """
    return {"foreach": foreach, "maximize": maximize, "capturable": capturable, "differentiable": differentiable}


def check_flags(name: str, group: dict) -> None:
    """Refuse ``differentiable=True``: minigrad's optimizers update arrays in place, off the tape."""
    if group.get("differentiable"):
        raise ArgumentError(
            f"{name}: differentiable=True is not supported (the update runs on arrays, off the tape); "
            "pass differentiable=False"
        )
