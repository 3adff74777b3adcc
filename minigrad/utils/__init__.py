"""PyTorch's ``torch.utils`` as ported code reaches it: :mod:`minigrad.utils.data`."""

from . import data

__all__ = ["data"]
