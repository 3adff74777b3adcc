"""The Optimizer base class: parameter groups, state, closures, state_dict.

Optimizers read ``p.grad`` and update ``p.array`` in place with array
operations (no recording, no new tensors), bumping each parameter's version
so that a graph built before the update refuses a stale backward.
"""

from __future__ import annotations

from .. import backend
from ..autograd import enable_grad
from ..errors import MinigradError
from ..interpreter import host_call
from ..tensor import Tensor


def scratch_like(scratch: dict, array, k: int = 0):
    """The ``k``-th scratch array of ``array``'s shape, dtype and kind in ``scratch`` (made on first use)."""
    key = (array.shape, array.dtype, type(array), k)
    buf = scratch.get(key)
    if buf is None:
        buf = scratch[key] = backend.xp_of(array).empty_like(array)
    return buf


def plain_numbers(*values) -> bool:
    """True when every value is a Python int or float (NumPy 2 treats them as weak scalars: the arithmetic stays
    in the arrays' dtype, so an ``out=`` call into a scratch of that dtype gives the bits of the expression)."""
    return all(type(v) is float or type(v) is int for v in values)


class OptimizerStateError(MinigradError, ValueError):
    """``load_state_dict`` got a state that does not fit this optimizer's parameters; nothing was loaded."""


class Optimizer:
    """Base class: holds ``param_groups`` (dicts of parameters and hyperparameters) and per-parameter ``state``.

    Subclasses define ``defaults`` (via ``__init__``) and
    ``_update(param, grad, state, group)`` working on arrays in place.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict = {}  # id(param) -> dict of arrays and numbers
        self.param_groups: list = []
        if isinstance(params, (Tensor, dict)):  # list() would iterate a tensor's rows, or a dict's keys
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of tensors or of parameter-group dicts, "
                f"got a {type(params).__name__} (wrap it in a list)"
            )
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (the rest from the defaults)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}: a parameter group is a dict with a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimize tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf tensor (shape {tuple(p.shape)})")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one group")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown hyperparameters {sorted(unknown)}")
        filled = {**self.defaults, **group, "params": params}
        self._check_group(filled)
        self.param_groups.append(filled)

    # hyperparameters that must be >= 0 and averaging rates that must lie in [0, 1], wherever a group has them
    _NON_NEGATIVE = ("eps", "weight_decay", "momentum", "lr_decay", "initial_accumulator_value", "damping")
    _UNIT_INTERVAL = ("alpha", "rho")

    def _check_group(self, group: dict) -> None:
        """Validate a group's hyperparameters (subclasses add their own rules); NaN fails every check."""
        name = type(self).__name__
        if not group.get("lr", 0) >= 0:
            raise ValueError(f"{name}: invalid learning rate {group['lr']}")
        for key in self._NON_NEGATIVE:
            if key in group and not group[key] >= 0:
                raise ValueError(f"{name}: {key} must be non-negative, got {group[key]}")
        for key in self._UNIT_INTERVAL:
            if key in group and not 0 <= group[key] <= 1:
                raise ValueError(f"{name}: {key} must be in [0, 1], got {group[key]}")
        if "betas" in group:
            betas = tuple(group["betas"])
            if len(betas) != 2 or not all(0.0 <= beta < 1.0 for beta in betas):
                raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {group['betas']}")

    @host_call  # minigrad.compile replays the call itself
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: to None (the default, as PyTorch), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.array[...] = 0

    @host_call  # minigrad.compile replays the call itself: the update is array code, hyperparameters read live
    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss, if one is given.

        ``closure`` re-evaluates the model and returns the loss (it may call
        ``backward``); it runs with recording on.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.get(id(p))
                if state is None:
                    state = self.state[id(p)] = self._init_state(p, group)
                self._update(p.array, p.grad.array, state, group)
                p._vc[0] += 1
        return loss

    def _step_into(self, scratch: dict) -> None:
        """``step()`` as ``minigrad.compile`` replays it: the same update, written without temporaries.

        Each parameter goes through :meth:`_update_into`, which subclasses
        define to run their ``_update`` arithmetic with in-place ``out=``
        ufunc calls on the live parameter and state arrays and on ``scratch``
        buffers (one per shape and dtype, reused across parameters and
        replays), giving bit for bit the arrays ``_update`` gives. The
        hyperparameters are read from ``param_groups`` here, at every call,
        so schedulers keep working.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.get(id(p))
                if state is None:
                    state = self.state[id(p)] = self._init_state(p, group)
                self._update_into(p.array, p.grad.array, state, group, scratch)
                p._vc[0] += 1

    def _fuses_step(self) -> bool:
        """True when ``_step_into`` is ``step()`` exactly: ``step`` and ``_update`` are not overridden below the
        class that defines ``_update_into``."""
        cls = type(self)
        if cls.step is not Optimizer.step:
            return False
        into = next((c for c in cls.__mro__ if "_update_into" in c.__dict__), Optimizer)
        update = next((c for c in cls.__mro__ if "_update" in c.__dict__), Optimizer)
        return into is update and into is not Optimizer

    def _update_into(self, param, grad, state: dict, group: dict, scratch: dict) -> None:
        """``_update`` without temporaries (see :meth:`_step_into`); the base class runs ``_update`` itself."""
        self._update(param, grad, state, group)

    def _init_state(self, param, group) -> dict:
        return {}

    def _update(self, param, grad, state: dict, group: dict) -> None:
        raise NotImplementedError

    # --- saving and resuming ---------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``, as PyTorch.

        Parameters are numbered in group order; arrays in the state are
        returned as tensors, so ``minigrad.save`` stores it as it is.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if id(p) in self.state:
                    state[index[id(p)]] = {k: _export_state(v) for k, v in self.state[id(p)].items()}
        return {"state": state, "param_groups": groups}

    def _state_array_shapes(self, param) -> tuple:
        """The shapes a state array of ``param`` may have (``load_state_dict`` checks them).

        Per-parameter buffers have the parameter's shape, step counts are 0-d;
        an optimizer with other buffers (LBFGS's flat vectors) says so here.
        """
        return (tuple(param.shape), ())

    def _import_state(self, value, param, key, name):
        """A saved state value for ``param`` on its device and in its dtype; lists and tuples element by element."""
        if isinstance(value, (list, tuple)):
            return type(value)(self._import_state(v, param, key, name) for v in value)
        if isinstance(value, Tensor) or backend.is_array(value):
            array = value.array if isinstance(value, Tensor) else value
            if tuple(array.shape) not in self._state_array_shapes(param):
                raise OptimizerStateError(
                    f"{type(self).__name__}.load_state_dict: state {name!r} of parameter {key} has shape "
                    f"{tuple(array.shape)}, expected one of {list(self._state_array_shapes(param))}"
                )
            return backend.to_device(array, param.device).astype(param.dtype, copy=True)
        return value

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict`, validating everything first."""
        params = [p for group in self.param_groups for p in group["params"]]
        try:
            groups, saved = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError) as exc:
            raise OptimizerStateError(f"{type(self).__name__}.load_state_dict: not an optimizer state dict") from exc
        sizes = [len(g["params"]) for g in groups]
        if sizes != [len(g["params"]) for g in self.param_groups]:
            raise OptimizerStateError(
                f"{type(self).__name__}.load_state_dict: the saved groups hold {sizes} parameters, "
                f"this optimizer's {[len(g['params']) for g in self.param_groups]}"
            )
        new_state = {}
        for key, entry in saved.items():
            if not isinstance(key, int) or not 0 <= key < len(params):
                raise OptimizerStateError(f"{type(self).__name__}.load_state_dict: unknown parameter index {key!r}")
            p = params[key]
            new_state[id(p)] = {name: self._import_state(value, p, key, name) for name, value in entry.items()}
        for group, saved_group in zip(self.param_groups, groups):
            group.update({k: (tuple(v) if isinstance(v, list) else v) for k, v in saved_group.items() if k != "params"})
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines) + "\n)"


def _export_state(value):
    """A state value as ``state_dict`` returns it: arrays copied into tensors, lists and tuples element by element."""
    if backend.is_array(value):
        return Tensor._wrap(value.copy())
    if isinstance(value, (list, tuple)):
        return type(value)(_export_state(v) for v in value)
    return value
