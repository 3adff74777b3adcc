"""A whole LSTM layer over a sequence as one primitive: the loop over time on arrays, backward by hand.

``nn.LSTM`` composed of ``linear``, ``sigmoid``, ``tanh``, slicing and ``stack`` records about twenty
nodes per time step, and its backward pays one small GEMM per step for each weight gradient plus the
sums of those gradients. Here the layer's input product is one GEMM over all steps (done by the caller:
``xw = linear(x, W_ih, b_ih)`` on the (T, B, H_in) input), and this primitive runs the recurrence

    a_t = xw_t + h_(t-1) W_hh^T + b_hh,  rows (i, f, g, o) of a_t's last axis, each of size H
    i, f, o = sigmoid(.), g = tanh(.);   c_t = f * c_(t-1) + i * g;   h_t = o * tanh(c_t)

in one node. Its output is (T + 1, B, H): rows 0..T-1 are h_t (in time order, also with ``reverse``,
which runs t = T-1 .. 0 as a bidirectional LSTM's second direction), row T is the final cell state.

Backward through time (a plain backward): with dh_t the output's cotangent plus the next step's
dh_(t-1), and dc the cell state's,

    do = dh tanh(c_t);  dc += dh o (1 - tanh(c_t)^2);  di = dc g;  dg = dc i;  df = dc c_(t-1)
    da = (di i (1 - i), df f (1 - f), dg (1 - g^2), do o (1 - o));  dh_(t-1) = da W_hh;  dc_(t-1) = dc f

and then, over all steps at once, dxw = da, dW_hh = sum_t da_t^T h_(t-1) (one GEMM), db_hh = sum da.
In a recorded backward (``create_graph=True``) the vjp instead differentiates the same recurrence
composed of minigrad ops (:func:`lstm_layer_reference`), so that double backward works.
"""

from __future__ import annotations

from .. import backend
from ..errors import ShapeError
from ..primitive import primitive
from .elementwise import sigmoid, tanh
from .linalg import linear
from .shape import concatenate, stack, unsqueeze


def _sigmoid_(x, xp):
    """sigmoid(x) in place, as tanh(x / 2) / 2 + 1 / 2 (the same function; tanh never overflows)."""
    x *= 0.5
    xp.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


def _lstm_layer_forward(xw, h0, c0, w_hh, b_hh, *, reverse=False):
    """The recurrence on arrays: the output (T + 1, B, H) and what the backward reuses."""
    if xw.ndim != 3 or h0.ndim != 2 or xw.shape[-1] != 4 * h0.shape[-1] or c0.shape != h0.shape:
        raise ShapeError(
            f"lstm_layer: expected xw (T, B, 4H), h0 and c0 (B, H), got {tuple(xw.shape)}, {tuple(h0.shape)}, "
            f"{tuple(c0.shape)}"
        )
    xp = backend.xp_of(xw)
    length, batch, rows = xw.shape
    n = rows // 4
    dtype = xp.result_type(xw, h0, c0, w_hh, b_hh)
    out = xp.empty((length + 1, batch, n), dtype)
    acts = xp.empty((length, batch, rows), dtype)  # (i, f, g, o) after their activations
    h_prev = xp.empty((length, batch, n), dtype)  # h_(t-1) and c_(t-1) of each step t
    c_prev = xp.empty((length, batch, n), dtype)
    tanh_c = xp.empty((length, batch, n), dtype)
    w_t = w_hh.T
    h, c = h0, c0
    for t in range(length - 1, -1, -1) if reverse else range(length):
        h_prev[t], c_prev[t] = h, c
        a = acts[t]
        xp.matmul(h, w_t, out=a)
        a += b_hh
        a += xw[t]
        _sigmoid_(a[:, : 2 * n], xp)
        xp.tanh(a[:, 2 * n : 3 * n], out=a[:, 2 * n : 3 * n])
        _sigmoid_(a[:, 3 * n :], xp)
        c = a[:, n : 2 * n] * c
        c += a[:, :n] * a[:, 2 * n : 3 * n]
        xp.tanh(c, out=tanh_c[t])
        h = out[t]
        xp.multiply(a[:, 3 * n :], tanh_c[t], out=h)
    out[length] = c
    return out, (acts, h_prev, c_prev, tanh_c)


def _lstm_layer_backward(g, kept, w_hh, reverse):
    """Cotangents of (xw, h0, c0, w_hh, b_hh) from the output's g (T + 1, B, H): see the module docstring."""
    acts, h_prev, c_prev, tanh_c = kept
    xp = backend.xp_of(acts)
    length, batch, rows = acts.shape
    n = rows // 4
    da = xp.empty_like(acts)
    dh = xp.zeros((batch, n), acts.dtype)
    dc = xp.array(g[length], dtype=acts.dtype)
    for t in range(length) if reverse else range(length - 1, -1, -1):
        a, d = acts[t], da[t]
        i, f, gg, o = a[:, :n], a[:, n : 2 * n], a[:, 2 * n : 3 * n], a[:, 3 * n :]
        dh += g[t]
        tc = tanh_c[t]
        dc += dh * o * (1 - tc * tc)
        xp.multiply(dh * tc, o * (1 - o), out=d[:, 3 * n :])
        xp.multiply(dc * gg, i * (1 - i), out=d[:, :n])
        xp.multiply(dc * c_prev[t], f * (1 - f), out=d[:, n : 2 * n])
        xp.multiply(dc * i, 1 - gg * gg, out=d[:, 2 * n : 3 * n])
        dc *= f
        dh = d @ w_hh
    flat = da.reshape(length * batch, rows)
    dw = (h_prev.reshape(length * batch, n).T @ flat).T  # in the weight's memory order when it is column-major
    return [da, dh, dc, dw, flat.sum(axis=0)]


@primitive(name="lstm_layer", saves=(0, 1, 2, 3, 4), residual=True)
def _lstm_layer(xw, h0, c0, w_hh, b_hh, *, reverse=False):
    """The recurrence on arrays: the output (T + 1, B, H), and what the backward reuses (see _lstm_layer_vjp)."""
    out, kept = _lstm_layer_forward(xw, h0, c0, w_hh, b_hh, reverse=reverse)
    return out, [kept, None]


def _lstm_layer_vjp(k):
    """The vjp for input k: in a plain backward, the k-th of all five cotangents made in one pass through time.

    The first vjp of a backward makes all five and keeps them, with the ``g`` they are for, in the
    forward's residual; each vjp takes its own out (so a cotangent handed out once, which the engine may
    then sum into in place, is never handed out again: a later backward makes them anew). In a recorded
    backward the vjp differentiates :func:`lstm_layer_reference` on the input tensors, so that its own
    work is recorded (double backward) -- one recomputation per input, as that is the rare case.
    """

    def vjp(g, kept, xw, h0, c0, w_hh, b_hh, *, reverse):
        if kept is None:
            from ..autograd import grad

            inputs = (xw, h0, c0, w_hh, b_hh)
            out = lstm_layer_reference(*inputs, reverse=reverse)
            return grad(out, inputs[k], g, create_graph=True)[0]
        made = kept[1]
        if made is None or made[0] is not g or k not in made[1]:
            made = kept[1] = (g, dict(enumerate(_lstm_layer_backward(g, kept[0], w_hh, reverse))))
        return made[1].pop(k)

    return vjp


_lstm_layer.defvjp(*(_lstm_layer_vjp(k) for k in range(5)))


def lstm_layer(xw, h0, c0, w_hh, b_hh, *, reverse: bool = False):
    """One LSTM layer over a sequence: (T + 1, B, H), the hidden states h_0..h_(T-1) then the last cell state.

    ``xw`` (T, B, 4H) is the input product W_ih x_t + b_ih of every step, ``h0`` and ``c0`` (B, H) the
    initial state, ``w_hh`` (4H, H) and ``b_hh`` (4H,) the recurrent weights, gate rows (i, f, g, o) as
    PyTorch's. With ``reverse`` the recurrence runs from the last step to the first (the output stays
    in time order, and its last row is then the cell state after step 0). See the module docstring.
    """
    return _lstm_layer(xw, h0, c0, w_hh, b_hh, reverse=reverse)


def lstm_layer_reference(xw, h0, c0, w_hh, b_hh, *, reverse: bool = False):
    """:func:`lstm_layer` composed of minigrad ops, step by step (its recorded backward differentiates this)."""
    n = h0.shape[-1]
    length = xw.shape[0]
    h, c = h0, c0
    hs = [None] * length
    for t in range(length - 1, -1, -1) if reverse else range(length):
        a = xw[t] + linear(h, w_hh, b_hh)
        i, f = sigmoid(a[..., :n]), sigmoid(a[..., n : 2 * n])
        c = f * c + i * tanh(a[..., 2 * n : 3 * n])
        h = sigmoid(a[..., 3 * n :]) * tanh(c)
        hs[t] = h
    return concatenate([stack(hs, axis=0), unsqueeze(c, 0)], axis=0)
