"""Lazy modules: layers whose input size is read from the first input, as PyTorch's ``nn.LazyLinear``,
``nn.LazyConv1d/2d/3d``, ``nn.LazyConvTranspose1d/2d/3d``, ``nn.LazyBatchNorm1d/2d/3d`` and
``nn.LazyInstanceNorm1d/2d/3d``.

Until the first forward, the weights are :class:`UninitializedParameter` (and BatchNorm's running
statistics :class:`UninitializedBuffer`): registered under their final names (so ``parameters()`` can
be handed to an optimizer, and ``state_dict()`` lists the keys), holding no data, and printed as
``<UninitializedParameter>``. The first call reads the input size (the last dimension for Linear,
dimension 1 for the others, 0 for an unbatched convolution input), builds the ordinary layer with
its PyTorch initialization, moves its values into the *same* parameter objects (now plain
Parameters) and turns the module into that layer (``type(m)`` becomes ``Linear``, ``Conv2d``, ...).
Loading a state dict into a lazy module materializes the parameters with the loaded shapes.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .layers import BatchNorm1d, BatchNorm2d, BatchNorm3d, Linear
from .module import Module, Parameter
from .normalization import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (of a lazy module): no data until :meth:`materialize`,
    which gives it a shape and makes it a plain :class:`~minigrad.nn.Parameter` in place."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        super().__init__(backend.to_device(np.zeros(0, dtype=dtype), backend.normalize_device(device or "cpu")),
                         requires_grad)  # fmt: skip

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the parameter ``shape`` (uninitialized values, as PyTorch's empty), in place."""
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        xp = backend.xp_for(self.device if device is None else backend.normalize_device(device))
        self._materialize_with(xp.empty(tuple(shape), dtype=dtype))

    def _materialize_with(self, array) -> None:
        self.array = array
        self._vc[0] += 1
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet (BatchNorm's running statistics in a lazy BatchNorm)."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.array = backend.to_device(np.zeros(0, dtype=dtype), backend.normalize_device(device or "cpu"))
        self.grad, self.requires_grad, self._node, self._vc = None, False, None, [0]

    materialize = UninitializedParameter.materialize
    _materialize_with = UninitializedParameter._materialize_with

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"


_UNINITIALIZED = (UninitializedParameter, UninitializedBuffer)


class LazyModuleMixin:
    """What the lazy layers share: an ordinary layer built with input size 0 (for its settings and repr),
    uninitialized weights, and a forward pre-hook that builds the real layer from the first input."""

    cls_to_become: type = Module

    def _lazy_setup(self, *args, **kwargs) -> None:
        self.cls_to_become.__init__(self, 0, *args, **kwargs)
        object.__setattr__(self, "_lazy_args", (args, kwargs))
        for name, p in list(self._parameters.items()):
            if p is not None:
                self._parameters[name] = UninitializedParameter(p.requires_grad, p.device, p.dtype)
        for name, b in list(self._buffers.items()):
            if b is not None and b.numel() == 0:
                self._buffers[name] = UninitializedBuffer(False, b.device, b.dtype)
        object.__setattr__(self, "_lazy_hook", self.register_forward_pre_hook(LazyModuleMixin._infer_parameters))

    def has_uninitialized_params(self) -> bool:
        """Whether any parameter or buffer still waits for the first input."""
        return any(isinstance(t, _UNINITIALIZED) for t in [*self._parameters.values(), *self._buffers.values()])

    def _input_size(self, input: Tensor) -> int:
        return input.shape[1]

    def initialize_parameters(self, input: Tensor) -> None:
        """Build the ordinary layer for ``input`` and take its values (and settings) over, in place."""
        args, kwargs = self._lazy_args
        real = self.cls_to_become(self._input_size(input), *args, **kwargs)
        for registry in ("_parameters", "_buffers"):
            mine, theirs = getattr(self, registry), getattr(real, registry)
            for name, value in theirs.items():
                own = mine.get(name)
                if isinstance(own, _UNINITIALIZED):
                    own._materialize_with(value.array)
                    theirs[name] = own
                elif own is not None and value is not None and tuple(own.shape) == tuple(value.shape):
                    theirs[name] = own  # materialized by load_state_dict: keep the loaded values
        self._lazy_hook.remove()
        hooks, post, training = self._forward_pre_hooks, self._forward_hooks, self.training
        self.__dict__.clear()
        self.__dict__.update(real.__dict__)
        object.__setattr__(self, "_forward_pre_hooks", hooks)
        object.__setattr__(self, "_forward_hooks", post)
        self.__class__ = self.cls_to_become
        self.train(training)

    @staticmethod
    def _infer_parameters(module, args) -> None:
        if not args or not isinstance(args[0], Tensor):
            raise TypeError(f"{type(module).__name__}: the first forward needs a Tensor input to infer its size")
        module.initialize_parameters(args[0])

    def state_dict(self):
        """As Module's, with the uninitialized parameters and buffers themselves as values (as PyTorch)."""
        out = super().state_dict()
        own = dict(self._parameters) | dict(self._buffers)
        for name, value in own.items():
            if isinstance(value, _UNINITIALIZED) and name in out:
                out[name] = value
        return out

    def load_state_dict(self, state_dict, strict: bool = True):
        """Materialize each uninitialized entry with the loaded shape first, then load as Module does."""
        for registry in (self._parameters, self._buffers):
            for name, value in registry.items():
                loaded = state_dict.get(name)
                if isinstance(value, _UNINITIALIZED) and loaded is not None and not isinstance(loaded, _UNINITIALIZED):
                    value.materialize(tuple(loaded.shape))
        return super().load_state_dict(
            {k: v for k, v in state_dict.items() if not isinstance(v, _UNINITIALIZED)}, strict
        )  # fmt: skip


class LazyLinear(LazyModuleMixin, Linear):
    """:class:`~minigrad.nn.Linear` with ``in_features`` read from the first input's last dimension."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        Module.__init__(self)
        self._lazy_setup(out_features, bias=bias, dtype=dtype, device=device)

    def _input_size(self, input: Tensor) -> int:
        return input.shape[-1]


class _LazyConvMixin(LazyModuleMixin):
    _spatial = 2

    def _input_size(self, input: Tensor) -> int:
        return input.shape[0] if input.ndim == self._spatial + 1 else input.shape[1]


class LazyConv1d(_LazyConvMixin, Conv1d):
    """:class:`~minigrad.nn.Conv1d` with ``in_channels`` read from the first input."""

    cls_to_become, _spatial = Conv1d, 1

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:  # fmt: skip
        Module.__init__(self)
        self._lazy_setup(out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         device=device, dtype=dtype)  # fmt: skip


class LazyConv2d(_LazyConvMixin, Conv2d):
    """:class:`~minigrad.nn.Conv2d` with ``in_channels`` read from the first input."""

    cls_to_become, _spatial = Conv2d, 2

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:  # fmt: skip
        Module.__init__(self)
        self._lazy_setup(out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         device=device, dtype=dtype)  # fmt: skip


class LazyConvTranspose1d(_LazyConvMixin, ConvTranspose1d):
    """:class:`~minigrad.nn.ConvTranspose1d` with ``in_channels`` read from the first input."""

    cls_to_become, _spatial = ConvTranspose1d, 1

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0, groups: int = 1,
                 bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:  # fmt: skip
        Module.__init__(self)
        self._lazy_setup(out_channels, kernel_size, stride, padding, output_padding, groups, bias, dilation,
                         padding_mode, device=device, dtype=dtype)  # fmt: skip


class LazyConvTranspose2d(_LazyConvMixin, ConvTranspose2d):
    """:class:`~minigrad.nn.ConvTranspose2d` with ``in_channels`` read from the first input."""

    cls_to_become, _spatial = ConvTranspose2d, 2

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0, groups: int = 1,
                 bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:  # fmt: skip
        Module.__init__(self)
        self._lazy_setup(out_channels, kernel_size, stride, padding, output_padding, groups, bias, dilation,
                         padding_mode, device=device, dtype=dtype)  # fmt: skip


class LazyConv3d(_LazyConvMixin, Conv3d):
    """:class:`~minigrad.nn.Conv3d` with ``in_channels`` read from the first input."""

    cls_to_become, _spatial = Conv3d, 3

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:  # fmt: skip
        Module.__init__(self)
        self._lazy_setup(out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         device=device, dtype=dtype)  # fmt: skip


class LazyConvTranspose3d(_LazyConvMixin, ConvTranspose3d):
    """:class:`~minigrad.nn.ConvTranspose3d` with ``in_channels`` read from the first input."""

    cls_to_become, _spatial = ConvTranspose3d, 3

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0, groups: int = 1,
                 bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:  # fmt: skip
        Module.__init__(self)
        self._lazy_setup(out_channels, kernel_size, stride, padding, output_padding, groups, bias, dilation,
                         padding_mode, device=device, dtype=dtype)  # fmt: skip


class LazyBatchNorm1d(LazyModuleMixin, BatchNorm1d):
    """:class:`~minigrad.nn.BatchNorm1d` with ``num_features`` read from the first input's dimension 1."""

    cls_to_become = BatchNorm1d

    def __init__(self, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True, track_running_stats: bool = True,
                 device=None, dtype=None) -> None:  # fmt: skip
        Module.__init__(self)
        self._lazy_setup(eps, momentum, affine, track_running_stats, dtype=dtype, device=device)


class LazyBatchNorm2d(LazyModuleMixin, BatchNorm2d):
    """:class:`~minigrad.nn.BatchNorm2d` with ``num_features`` read from the first input's dimension 1."""

    cls_to_become = BatchNorm2d

    def __init__(self, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True, track_running_stats: bool = True,
                 device=None, dtype=None) -> None:  # fmt: skip
        Module.__init__(self)
        self._lazy_setup(eps, momentum, affine, track_running_stats, dtype=dtype, device=device)


class LazyBatchNorm3d(LazyModuleMixin, BatchNorm3d):
    """:class:`~minigrad.nn.BatchNorm3d` with ``num_features`` read from the first input's dimension 1."""

    cls_to_become = BatchNorm3d

    def __init__(self, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True, track_running_stats: bool = True,
                 device=None, dtype=None, *, bias: bool = True) -> None:  # fmt: skip
        Module.__init__(self)
        self._lazy_setup(eps, momentum, affine, track_running_stats, dtype=dtype, device=device, bias=bias)


class _LazyInstanceNormMixin(LazyModuleMixin):
    """PyTorch's lazy instance norms: ``affine`` and ``track_running_stats`` default to True (unlike the
    eager layers), and ``num_features`` is the channel dimension of the first input, batched or not
    (PyTorch reads dimension 1 even of an unbatched input, and then fails)."""

    def __init__(self, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True, track_running_stats: bool = True,
                 device=None, dtype=None, *, bias: bool = True) -> None:  # fmt: skip
        Module.__init__(self)
        self._lazy_setup(eps, momentum, affine, track_running_stats, device=device, dtype=dtype, bias=bias)

    def _input_size(self, input: Tensor) -> int:
        nb = self.cls_to_become._no_batch_dim
        return input.shape[1 if input.ndim == nb + 1 else 0]


class LazyInstanceNorm1d(_LazyInstanceNormMixin, InstanceNorm1d):
    """:class:`~minigrad.nn.InstanceNorm1d` with ``num_features`` read from the first input."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNormMixin, InstanceNorm2d):
    """:class:`~minigrad.nn.InstanceNorm2d` with ``num_features`` read from the first input."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNormMixin, InstanceNorm3d):
    """:class:`~minigrad.nn.InstanceNorm3d` with ``num_features`` read from the first input."""

    cls_to_become = InstanceNorm3d


__all__ = [
    "UninitializedParameter", "UninitializedBuffer", "LazyModuleMixin", "LazyLinear", "LazyConv1d", "LazyConv2d",
    "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConv3d", "LazyConvTranspose3d", "LazyBatchNorm1d",
    "LazyBatchNorm2d", "LazyBatchNorm3d",
    "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
]  # fmt: skip
