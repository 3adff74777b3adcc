"""Recurrent layers with PyTorch's names, arguments, parameter names, shapes and initialization.

Cells (one time step): :class:`RNNCell`, :class:`LSTMCell`, :class:`GRUCell`.
Sequence layers (stacked, optionally bidirectional): :class:`RNN`, :class:`LSTM`, :class:`GRU`.

Everything is composed of existing primitives (``linear``, ``sigmoid``, ``tanh``, ``relu``,
slicing, ``stack``, ``concatenate``), so gradients, ``create_graph`` and gradcheck come from
those. Both products run step by step, the input-to-hidden one on each step's input (see
``_RNNBase._run`` for why not one GEMM over the sequence). Backward through time is handled by the
iterative engine, so long sequences (thousands of steps) need no recursion, and the saved
state grows linearly with the length.

Gate layouts, as PyTorch (the rows of ``weight_ih`` / ``weight_hh`` / biases, in blocks of
``hidden_size``):

- RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu
- LSTM: rows (i, f, g, o); i, f, o = sigmoid(...), g = tanh(...); c' = f * c + i * g; h' = o * tanh(c')
  (with ``proj_size`` > 0, h' = W_hr (o * tanh(c')), PyTorch's LSTM with projections)
- GRU:  rows (r, z, n); r, z = sigmoid(W_i x + b_i + W_h h + b_h);
  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (1 - z) * n + z * h
"""

from __future__ import annotations

import math

from .. import creation
from ..errors import ArgumentError, ShapeError
from ..ops.elementwise import relu, sigmoid, tanh
from ..ops.linalg import linear
from ..ops.recurrent import lstm_layer
from ..ops.shape import concatenate, stack
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter
from .utils.rnn import PackedSequence, _select

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# --- one time step ---------------------------------------------------------------------------------------------


def _rnn_step(xw, h, w_hh, b_hh, act):
    """h' = act(xw + W_hh h + b_hh), where xw = W_ih x + b_ih is precomputed."""
    return act(xw + linear(h, w_hh, b_hh))


def _lstm_step(xw, state, w_hh, b_hh, w_hr=None):
    """One LSTM step; with a projection ``w_hr`` (proj_size, hidden_size) the new h is W_hr (o * tanh(c'))."""
    h, c = state
    gates = xw + linear(h, w_hh, b_hh)
    n = c.shape[-1]
    i = sigmoid(gates[..., :n])
    f = sigmoid(gates[..., n : 2 * n])
    g = tanh(gates[..., 2 * n : 3 * n])
    o = sigmoid(gates[..., 3 * n :])
    c_new = f * c + i * g
    h_new = o * tanh(c_new)
    return (h_new if w_hr is None else linear(h_new, w_hr)), c_new


def _gru_step(xw, h, w_hh, b_hh):
    hw = linear(h, w_hh, b_hh)
    n = h.shape[-1]
    r = sigmoid(xw[..., :n] + hw[..., :n])
    z = sigmoid(xw[..., n : 2 * n] + hw[..., n : 2 * n])
    cand = tanh(xw[..., 2 * n :] + r * hw[..., 2 * n :])
    return (1 - z) * cand + z * h


def _check_sizes(op: str, input_size: int, hidden_size: int) -> None:
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ArgumentError(f"{op}: {name} must be a non-negative int, got {value!r}")
    if hidden_size == 0:
        raise ArgumentError(f"{op}: hidden_size must be greater than zero")


def _reset_uniform(module: Module, hidden_size: int) -> None:
    """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch's reset_parameters."""
    bound = 1.0 / math.sqrt(hidden_size)
    for param in module.parameters():
        init.uniform_(param, -bound, bound)


# --- cells -------------------------------------------------------------------------------------------------------


class _CellBase(Module):
    _mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None, device=None):
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = _GATES[self._mode] * hidden_size
        self.weight_ih = Parameter(creation.empty_tensor((rows, input_size), dtype, device))
        self.weight_hh = Parameter(creation.empty_tensor((rows, hidden_size), dtype, device))
        if bias:
            self.bias_ih = Parameter(creation.empty_tensor((rows,), dtype, device))
            self.bias_hh = Parameter(creation.empty_tensor((rows,), dtype, device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def _prepare(self, input, hx):
        """Check shapes; return (batched input, batched states or None, whether the input was unbatched)."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ShapeError(f"{name}: expected input of shape (N, {self.input_size}) or ({self.input_size},), "
                             f"got {tuple(input.shape)}")  # fmt: skip
        if input.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: input has {input.shape[-1]} features, expected input_size={self.input_size} "
                f"(shape {tuple(input.shape)})"
            )
        unbatched = input.ndim == 1
        if unbatched:
            input = input.unsqueeze(0)
        states = None
        if hx is not None:
            states = list(hx) if isinstance(hx, (tuple, list)) else [hx]
            expected = (input.shape[0], self.hidden_size)
            for k, s in enumerate(states):
                if not isinstance(s, Tensor):
                    raise ArgumentError(f"{name}: hidden state {k} must be a Tensor, got {type(s).__name__}")
                if s.ndim != (1 if unbatched else 2) or (s.unsqueeze(0) if unbatched else s).shape != expected:
                    raise ShapeError(
                        f"{name}: hidden state {k} has shape {tuple(s.shape)}, expected "
                        f"{expected[1:] if unbatched else expected} for input of shape "
                        f"{tuple(input.shape[1:] if unbatched else input.shape)}"
                    )
            states = [s.unsqueeze(0) if unbatched else s for s in states]
        return input, states, unbatched

    def _zeros(self, input):
        return creation.zeros((input.shape[0], self.hidden_size), dtype=input.dtype, device=input.device)

    def extra_repr(self) -> str:
        extra = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            extra += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            extra += f", nonlinearity={self.nonlinearity!r}"
        return extra


class RNNCell(_CellBase):
    """An Elman RNN cell: h' = act(W_ih x + b_ih + W_hh h + b_hh), act = ``tanh`` or ``relu``.

    ``weight_ih`` (hidden_size, input_size), ``weight_hh`` (hidden_size, hidden_size), ``bias_ih``,
    ``bias_hh`` (hidden_size,), all ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)). Input (N, H_in) or
    (H_in,); ``hx`` (N, H_out) or (H_out,), zeros when omitted; returns h' of hx's shape.
    """

    _mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype=None, device=None):  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, dtype, device)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, states, unbatched = self._prepare(input, hx)
        h = self._zeros(x) if states is None else states[0]
        act = tanh if self.nonlinearity == "tanh" else relu
        out = _rnn_step(linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh, act)
        return out.squeeze(0) if unbatched else out


class LSTMCell(_CellBase):
    """A long short-term memory cell, PyTorch's gate order (i, f, g, o) in the rows of the weights:

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi), f = sigmoid(...), g = tanh(...), o = sigmoid(...),
    c' = f * c + i * g, h' = o * tanh(c').

    ``weight_ih`` (4*hidden_size, input_size), ``weight_hh`` (4*hidden_size, hidden_size), biases
    (4*hidden_size,), all ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)). ``hx`` is ``(h_0, c_0)``
    (zeros when omitted); returns ``(h_1, c_1)``.
    """

    _mode = "LSTM"

    def forward(self, input, hx=None):
        x, states, unbatched = self._prepare(input, hx)
        if states is not None and len(states) != 2:
            raise ArgumentError(f"LSTMCell: hx must be a tuple (h_0, c_0), got {len(states)} tensor(s)")
        if states is None:
            states = [self._zeros(x), self._zeros(x)]
        h, c = _lstm_step(linear(x, self.weight_ih, self.bias_ih), states, self.weight_hh, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """A gated recurrent unit cell, PyTorch's gate order (r, z, n):

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.

    ``weight_ih`` (3*hidden_size, input_size), ``weight_hh`` (3*hidden_size, hidden_size), biases
    (3*hidden_size,), all ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    _mode = "GRU"

    def forward(self, input, hx=None):
        x, states, unbatched = self._prepare(input, hx)
        h = self._zeros(x) if states is None else states[0]
        out = _gru_step(linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return out.squeeze(0) if unbatched else out


# --- sequence layers -----------------------------------------------------------------------------------------------


class _RNNBase(Module):
    """What RNN, LSTM and GRU share: the stacked, optionally bidirectional loop over time."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 dtype=None, device=None):  # fmt: skip
        super().__init__()
        name = type(self).__name__
        _check_sizes(name, input_size, hidden_size)
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
            raise ArgumentError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ArgumentError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ArgumentError(
                f"{name}: proj_size should be a positive integer or zero to disable projections, got {proj_size!r}"
            )
        if proj_size and mode != "LSTM":
            raise ArgumentError(f"{name}: proj_size is only supported for LSTM, not RNN or GRU")
        if proj_size and proj_size >= hidden_size:
            raise ArgumentError(
                f"{name}: proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
                f"hidden_size={hidden_size}"
            )
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        rows = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size else hidden_size  # the size of h (and of each direction's output)
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (rows, layer_input)), ("weight_hh", (rows, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
                if proj_size:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                for base, shape in shapes:
                    setattr(self, base + suffix, Parameter(creation.empty_tensor(shape, dtype, device)))
                    self._flat_weights_names.append(base + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """A no-op, as PyTorch's on the CPU (there it packs weights for cuDNN); kept so ported code runs."""

    @property
    def all_weights(self) -> list:
        """The parameters of each layer and direction: [[w_ih, w_hh, b_ih, b_hh], ...], as PyTorch (with
        ``proj_size``, each list ends with w_hr)."""
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        params = [getattr(self, n) for n in self._flat_weights_names]
        return [params[k : k + per] for k in range(0, len(params), per)]

    def _weights(self, layer: int, direction: int):
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        get = self._parameters.get
        return (get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix), get("bias_hh" + suffix),
                get("weight_hr" + suffix))  # fmt: skip

    def _check_input(self, input):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise ArgumentError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise ShapeError(f"{name}: expected input of shape {layout} or (L, H_in), got {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: input has {input.shape[-1]} features in its last dimension, expected "
                f"input_size={self.input_size} (shape {tuple(input.shape)})"
            )

    def _check_state(self, state, k: int, batch: int, unbatched: bool, size: int):
        name = type(self).__name__
        layers = self.num_layers * (2 if self.bidirectional else 1)
        expected = (layers, size) if unbatched else (layers, batch, size)
        if not isinstance(state, Tensor):
            raise ArgumentError(f"{name}: initial state {k} must be a Tensor, got {type(state).__name__}")
        if tuple(state.shape) != expected:
            raise ShapeError(f"{name}: initial state {k} has shape {tuple(state.shape)}, expected {expected}")
        return state.unsqueeze(1) if unbatched else state

    def _step(self, layer_weights, xw, state):
        _, w_hh, _, b_hh, w_hr = layer_weights
        if self.mode == "LSTM":
            return _lstm_step(xw, state, w_hh, b_hh, w_hr)
        if self.mode == "GRU":
            return _gru_step(xw, state, w_hh, b_hh)
        return _rnn_step(xw, state, w_hh, b_hh, tanh if self.mode == "RNN_TANH" else relu)

    def _run(self, input, states):
        """input (L, N, H_in); states: per layer*direction, an h (N, H) or (h, c). Returns output, final states.

        Each time step's input product is a GEMM of its own, on that step's input tensor: a layer's
        per-step outputs are the next layer's inputs as they are, never slices of one (L, N, ...)
        tensor, since the backward of L slices of one tensor adds L cotangents of its full size (a
        cost quadratic in the length; see benchmarks/README.md, lstm_lm_step.py).
        """
        if self.mode == "LSTM" and self.bias and not self.proj_size:
            return self._run_lstm(input, states)
        directions = 2 if self.bidirectional else 1
        length = input.shape[0]
        finals = []
        xs = [input[t] for t in range(length)]
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                xs = [F.dropout(x, self.dropout, True) for x in xs]
            outputs = []
            for direction in range(directions):
                weights = self._weights(layer, direction)
                w_ih, b_ih = weights[0], weights[2]
                state = states[layer * directions + direction]
                steps = [None] * length
                for t in range(length) if direction == 0 else range(length - 1, -1, -1):
                    state = self._step(weights, linear(xs[t], w_ih, b_ih), state)
                    steps[t] = state[0] if self.mode == "LSTM" else state
                finals.append(state)
                outputs.append(steps)
            xs = outputs[0] if directions == 1 else [concatenate(pair, axis=-1) for pair in zip(*outputs)]
        return stack(xs, axis=0), finals

    def _run_lstm(self, input, states):
        """:meth:`_run` of an LSTM with biases and without projections: per layer and direction, the input
        product of all steps is one GEMM and the loop over time one :func:`~minigrad.ops.recurrent.lstm_layer`
        node (whose backward makes the weight gradients of all steps in one GEMM each)."""
        directions = 2 if self.bidirectional else 1
        length = input.shape[0]
        finals = []
        x = input
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
            outputs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh, _ = self._weights(layer, direction)
                h0, c0 = states[layer * directions + direction]
                out = lstm_layer(linear(x, w_ih, b_ih), h0, c0, w_hh, b_hh, reverse=direction == 1)
                finals.append((out[0 if direction else length - 1], out[length]))
                outputs.append(out[:length])
            x = outputs[0] if directions == 1 else concatenate(outputs, axis=-1)
        return x, finals

    def _run_packed(self, data, batch_sizes, states):
        """The loop over time of a packed batch (sorted, longest first): step t runs on its first
        b_t rows only. data (sum b_t, H_in); states per layer*direction for the full batch B = b_0.
        Returns the packed output data and each layer*direction's final states, taken at each
        sequence's own last step (the forward direction) or at its first step (the reverse one)."""
        directions = 2 if self.bidirectional else 1
        lstm = self.mode == "LSTM"
        offsets = [0]
        for b in batch_sizes:
            offsets.append(offsets[-1] + b)
        steps = len(batch_sizes)
        rows = lambda state, lo, hi: tuple(s[lo:hi] for s in state) if lstm else state[lo:hi]  # noqa: E731
        finals = []
        x = data
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
            outputs = []
            for direction in range(directions):
                weights = self._weights(layer, direction)
                xw = linear(x, weights[0], weights[2])
                initial = states[layer * directions + direction]
                out = [None] * steps
                if direction == 0:
                    state, done = initial, []
                    for t in range(steps):
                        b, after = batch_sizes[t], (batch_sizes[t + 1] if t + 1 < steps else 0)
                        state = self._step(weights, xw[offsets[t] : offsets[t + 1]], rows(state, 0, b))
                        out[t] = state[0] if lstm else state
                        if after < b:  # sequences after..b end at step t: their final state
                            done.append(rows(state, after, b))
                    done.reverse()
                    if lstm:
                        final = tuple(concatenate([d[k] for d in done], axis=0) for k in range(2))
                    else:
                        final = concatenate(done, axis=0)
                else:
                    state = None
                    for t in range(steps - 1, -1, -1):
                        b, before = batch_sizes[t], (batch_sizes[t + 1] if t + 1 < steps else 0)
                        if b > before:  # sequences before..b start (from their last step) here, from h_0
                            fresh = rows(initial, before, b)
                            if state is None:
                                state = fresh
                            elif lstm:
                                state = tuple(concatenate([s, f], axis=0) for s, f in zip(state, fresh))
                            else:
                                state = concatenate([state, fresh], axis=0)
                        state = self._step(weights, xw[offsets[t] : offsets[t + 1]], state)
                        out[t] = state[0] if lstm else state
                    final = state
                finals.append(final)
                outputs.append(concatenate(out, axis=0))
            x = outputs[0] if directions == 1 else concatenate(outputs, axis=-1)
        return x, finals

    def _forward_packed(self, input: PackedSequence, hx):
        name = type(self).__name__
        data = input.data
        if data.ndim != 2 or data.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: a PackedSequence's data must have shape (sum of lengths, input_size={self.input_size}), "
                f"got {tuple(data.shape)}"
            )
        batch_sizes = [int(b) for b in input.batch_sizes.array.tolist()]
        if not batch_sizes:
            raise ShapeError(f"{name}: the packed sequence is empty")
        batch = batch_sizes[0]
        layers = self.num_layers * (2 if self.bidirectional else 1)
        lstm = self.mode == "LSTM"
        sizes = (self.proj_size or self.hidden_size, self.hidden_size)  # of h, and of an LSTM's c
        if hx is None:
            given = tuple(
                creation.zeros((layers, batch, size), dtype=data.dtype, device=data.device) for size in sizes
            )[: 2 if lstm else 1]
        else:
            if lstm and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise ArgumentError(f"{name}: hx must be a tuple (h_0, c_0)")
            if not lstm and isinstance(hx, (tuple, list)):
                raise ArgumentError(f"{name}: hx must be a single Tensor h_0, got a {type(hx).__name__}")
            given = tuple(hx) if lstm else (hx,)
            # h_0 is given in the batch's original order; the loop runs in the sorted order
            given = tuple(_select(self._check_state(s, k, batch, False, sizes[k]), 1, input.sorted_indices)
                          for k, s in enumerate(given))  # fmt: skip
        states = [tuple(g[k] for g in given) if lstm else given[0][k] for k in range(layers)]
        output, finals = self._run_packed(data, batch_sizes, states)
        if lstm:
            h_n = _select(stack([f[0] for f in finals], axis=0), 1, input.unsorted_indices)
            c_n = _select(stack([f[1] for f in finals], axis=0), 1, input.unsorted_indices)
            hidden = (h_n, c_n)
        else:
            hidden = _select(stack(finals, axis=0), 1, input.unsorted_indices)
        packed = PackedSequence(output, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        return packed, hidden

    def _forward(self, input, hx):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        self._check_input(input)
        name = type(self).__name__
        unbatched = input.ndim == 2
        if unbatched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[0] == 0:
            raise ShapeError(f"{name}: the input sequence is empty (length 0)")
        batch = input.shape[1]
        layers = self.num_layers * (2 if self.bidirectional else 1)
        lstm = self.mode == "LSTM"
        h_size = self.proj_size if self.proj_size else self.hidden_size
        if hx is None:

            def zeros(size):
                shape = (layers, size) if unbatched else (layers, batch, size)
                return creation.zeros(shape, dtype=input.dtype, device=input.device)

            hx = (zeros(h_size), zeros(self.hidden_size)) if lstm else zeros(h_size)
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ArgumentError(f"{name}: hx must be a tuple (h_0, c_0)")
            h0 = self._check_state(hx[0], 0, batch, unbatched, h_size)
            c0 = self._check_state(hx[1], 1, batch, unbatched, self.hidden_size)
            states = [(h0[k], c0[k]) for k in range(layers)]
        else:
            if isinstance(hx, (tuple, list)):
                raise ArgumentError(f"{name}: hx must be a single Tensor h_0, got a {type(hx).__name__}")
            h0 = self._check_state(hx, 0, batch, unbatched, h_size)
            states = [h0[k] for k in range(layers)]
        output, finals = self._run(input, states)
        if lstm:
            h_n = stack([f[0] for f in finals], axis=0)
            c_n = stack([f[1] for f in finals], axis=0)
        else:
            h_n = stack(finals, axis=0)
        if unbatched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def forward(self, input, hx=None):
        return self._forward(input, hx)

    def extra_repr(self) -> str:
        extra = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            extra += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            extra += f", num_layers={self.num_layers}"
        if not self.bias:
            extra += ", bias=False"
        if self.batch_first:
            extra += ", batch_first=True"
        if self.dropout:
            extra += f", dropout={self.dropout}"
        if self.bidirectional:
            extra += ", bidirectional=True"
        return extra


class RNN(_RNNBase):
    """A multi-layer Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh), act = tanh or relu.

    Arguments as PyTorch: ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``. Input (L, N, H_in), (N, L, H_in) with
    ``batch_first``, or unbatched (L, H_in); ``h_0`` (D*num_layers, N, H_out), zeros when omitted.
    Returns ``output`` (L, N, D*H_out) (the last layer's h_t; both directions concatenated) and ``h_n``
    (D*num_layers, N, H_out). Parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (and ``..._reverse``), all ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    Dropout (training only) applies to each layer's output except the last.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None, device=None):  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNN: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype, device=device)  # fmt: skip
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        extra = super().extra_repr()
        return extra + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTM(_RNNBase):
    """A multi-layer LSTM, PyTorch's gate order (i, f, g, o) in the rows of each weight (see LSTMCell).

    Arguments as PyTorch: ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0)``. ``hx`` is ``(h_0, c_0)``: h_0 (D*num_layers, N,
    H_out), c_0 (D*num_layers, N, hidden_size); returns ``output`` (L, N, D*H_out), ``(h_n, c_n)``.
    H_out is hidden_size, or ``proj_size`` when it is positive: then each layer and direction also has
    ``weight_hr_l{k}`` (proj_size, hidden_size) and h_t = W_hr (o_t * tanh(c_t)), so ``weight_hh_l{k}``
    is (4*hidden_size, proj_size) and layers after the first take D*proj_size inputs, as PyTorch.
    Every weight is initialized U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)). Raises ArgumentError for a
    ``proj_size`` that is negative, not an int, or not smaller than ``hidden_size``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 dtype=None, device=None):  # fmt: skip
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, dtype=dtype, device=device)  # fmt: skip


class GRU(_RNNBase):
    """A multi-layer GRU, PyTorch's gate order (r, z, n) with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

    Arguments as PyTorch: ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``; returns ``output, h_n``. Weight shapes (3*hidden_size, ...),
    initialized U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None, device=None):  # fmt: skip
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype, device=device)  # fmt: skip


__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU"]
