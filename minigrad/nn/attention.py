"""Attention and the Transformer layers, with PyTorch's names, arguments, parameter names, shapes,
state-dict keys and initialization.

- :func:`scaled_dot_product_attention` (``F.scaled_dot_product_attention``): softmax(Q K^T * scale + M) V.
- :class:`MultiheadAttention`: projections ``in_proj_weight`` (or ``q/k/v_proj_weight`` when kdim or
  vdim differ from embed_dim), ``in_proj_bias``, ``out_proj``; optional ``bias_k``/``bias_v``.
- :class:`TransformerEncoderLayer`, :class:`TransformerEncoder`, :class:`TransformerDecoderLayer`,
  :class:`TransformerDecoder`, :class:`Transformer`.

Everything is composed of existing primitives (``matmul``, ``linear``, ``softmax``, ``where``,
``masked_fill``, slicing, ``concatenate``, ``dropout``), so gradients, ``create_graph`` and gradcheck
come from those.

Masks, as PyTorch (the two conventions differ):

- ``scaled_dot_product_attention``: a bool ``attn_mask`` is True where a query *may* attend to a key;
  a float mask is added to the scores.
- ``MultiheadAttention`` and the Transformer layers: a bool ``attn_mask`` / ``key_padding_mask`` is True
  where attending is *not allowed* (it becomes -inf); a float mask is added.

A query row whose keys are all masked: ``scaled_dot_product_attention`` gives zeros for it (and zero
gradients), as PyTorch 2.13's CPU kernels do (its "safe softmax": a row of -inf scores has weights 0).
``MultiheadAttention`` with ``need_weights=True`` computes the weights with a plain softmax, as PyTorch
does, so such a row is NaN in both the output and the weights; with ``need_weights=False`` it goes through
``scaled_dot_product_attention`` and the row is ``out_proj.bias``.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from .. import creation
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.construct import tril, triu
from ..ops.elementwise import masked_fill, relu, where
from ..ops.linalg import linear, matmul
from ..ops.reduction import softmax
from ..ops.shape import concatenate
from ..tensor import Tensor
from . import functional as F
from . import init
from .layers import Dropout, Linear
from .module import Module, ModuleList, Parameter

# --- scaled dot-product attention ---------------------------------------------------------------------------


def _is_float(t) -> bool:
    return np.dtype(t.dtype).kind == "f"


def _softmax_rows(scores, safe: bool):
    """softmax over the last axis; with ``safe``, rows whose scores are all -inf get weights 0 (not NaN).

    The dead rows are replaced by 0 before the softmax and zeroed after it, so neither the forward nor
    the backward sees a NaN (the gradient into such a row is 0).
    """
    if not safe or scores.shape[-1] == 0:
        return softmax(scores, dim=-1)
    xp = scores.xp
    dead = xp.isneginf(scores.array).all(axis=-1, keepdims=True)
    if not bool(dead.any()):
        return softmax(scores, dim=-1)
    dead = Tensor(dead)
    return where(dead, 0.0, softmax(where(dead, 0.0, scores), dim=-1))


def _attend(query, key, value, mask, dropout_p: float, scale: float, causal: bool, safe: bool):
    """(softmax(q k^T * scale + mask) v, weights) on checked inputs. ``mask`` is None, a bool tensor
    (True = take part) or a float tensor (added); ``causal`` adds the top-left causal mask."""
    scores = matmul(query * scale, key.mT)
    if causal:
        L, S = scores.shape[-2:]
        keep = Tensor(tril(creation.ones((L, S), dtype="bool", device=query.device)).array)
        scores = masked_fill(scores, ~keep, float("-inf"))
    if mask is not None:
        scores = masked_fill(scores, ~mask, float("-inf")) if mask.dtype == np.bool_ else scores + mask
    weights = _softmax_rows(scores, safe)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p, training=True)
    return matmul(weights, value), weights


def _repeat_heads(x, groups: int):
    """Each head (axis -3) repeated ``groups`` times in a row, as ``repeat_interleave(groups, dim=-3)``."""
    *batch, h, s, e = x.shape
    return x.unsqueeze(-3).expand(*batch, h, groups, s, e).reshape(*batch, h * groups, s, e)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:  # fmt: skip
    """Attention: softmax(Q K^T * scale + M) V, PyTorch's ``F.scaled_dot_product_attention``.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the leading dimensions
    broadcast. ``scale`` defaults to 1 / sqrt(E). ``attn_mask`` broadcasts to (..., L, S): a bool mask is
    True where a query may attend to a key (the others get score -inf), a float mask (of the query's
    dtype) is added to the scores. ``is_causal=True`` lets query i attend to keys j <= i (the top-left
    aligned lower triangle, also when L != S) and excludes ``attn_mask``. ``dropout_p`` drops attention
    weights with that probability (always, as PyTorch's function does; pass 0 in evaluation), from
    minigrad's seeded generator. ``enable_gqa=True`` allows grouped-query attention: key and value have
    H_kv heads in dimension -3, query H_q, a multiple of H_kv, and each key/value head serves H_q / H_kv
    consecutive query heads.

    A query row whose keys are all masked (all scores -inf) gets output 0 and gradient 0, as PyTorch 2.13.

    Raises ShapeError for shapes that do not fit (naming them), DTypeError for a mask that is neither
    bool nor the query's float dtype or non-float inputs, ArgumentError for ``attn_mask`` with
    ``is_causal`` or a ``dropout_p`` outside [0, 1].
    """
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise DTypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ShapeError(f"{op}: {name} must have at least 2 dimensions (..., seq, features), "
                             f"got shape {tuple(t.shape)}")  # fmt: skip
        if not _is_float(t):
            raise DTypeError(f"{op}: {name} must be a floating tensor, got dtype {t.dtype}")
    if not (query.dtype == key.dtype == value.dtype):
        raise DTypeError(f"{op}: query, key and value must have one dtype, got {query.dtype}, {key.dtype}, "
                         f"{value.dtype}")  # fmt: skip
    qs, ks, vs = tuple(query.shape), tuple(key.shape), tuple(value.shape)
    if ks[-1] != qs[-1]:
        raise ShapeError(f"{op}: query {qs} and key {ks} must have the same last (feature) dimension")
    if vs[-2] != ks[-2]:
        raise ShapeError(f"{op}: key {ks} and value {vs} must have the same sequence length (dimension -2)")
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float)) or not 0.0 <= dropout_p <= 1.0:
        raise ArgumentError(f"{op}: dropout_p must be a number in [0, 1], got {dropout_p!r}")
    if enable_gqa:
        if key.ndim < 3 or value.ndim < 3 or query.ndim < 3:
            raise ShapeError(f"{op}: enable_gqa needs a head dimension (-3); got query {qs}, key {ks}, value {vs}")
        hq, hk, hv = qs[-3], ks[-3], vs[-3]
        if hk != hv or hk == 0 or hq % hk:
            raise ShapeError(f"{op}: with enable_gqa the query's heads ({hq}) must be a multiple of the key's "
                             f"({hk}) and value's ({hv}); shapes query {qs}, key {ks}, value {vs}")  # fmt: skip
        if hq != hk:
            key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hk)
            ks, vs = tuple(key.shape), tuple(value.shape)
    try:
        batch = np.broadcast_shapes(qs[:-2], ks[:-2], vs[:-2])
    except ValueError:
        hint = "" if enable_gqa else " (different head counts need enable_gqa=True)"
        raise ShapeError(
            f"{op}: the batch dimensions of query {qs}, key {ks} and value {vs} do not broadcast{hint}"
        ) from None
    if attn_mask is not None:
        if is_causal:
            raise ArgumentError(f"{op}: pass either attn_mask or is_causal=True, not both")
        if not isinstance(attn_mask, Tensor):
            raise DTypeError(f"{op}: attn_mask must be a Tensor, got {type(attn_mask).__name__}")
        if attn_mask.dtype != np.bool_ and attn_mask.dtype != query.dtype:
            raise DTypeError(f"{op}: attn_mask must be bool or of the query's dtype {query.dtype}, "
                             f"got {attn_mask.dtype}")  # fmt: skip
        target = (*batch, qs[-2], ks[-2])
        try:
            ok = np.broadcast_shapes(tuple(attn_mask.shape), target) == target
        except ValueError:
            ok = False
        if not ok:
            raise ShapeError(f"{op}: attn_mask of shape {tuple(attn_mask.shape)} does not broadcast to the "
                             f"scores' shape {target} (query {qs}, key {ks})")  # fmt: skip
    if scale is None:
        scale = 1.0 / math.sqrt(qs[-1]) if qs[-1] else 1.0
    out, _ = _attend(query, key, value, attn_mask, float(dropout_p), float(scale), bool(is_causal), safe=True)
    return out


# --- multi-head attention ------------------------------------------------------------------------------------


def _check_positive_int(op: str, name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ArgumentError(f"{op}: {name} must be a positive int, got {value!r}")


def _float_mask(op: str, name: str, mask, dtype):
    """A MultiheadAttention mask as an additive float mask: bool True -> -inf (not allowed), False -> 0;
    a float mask as it is (cast to the query's dtype)."""
    if not isinstance(mask, Tensor):
        raise DTypeError(f"{op}: {name} must be a Tensor, got {type(mask).__name__}")
    if mask.dtype == np.bool_:
        return where(mask, float("-inf"), 0.0).astype(dtype)
    if not _is_float(mask):
        raise DTypeError(f"{op}: only bool and floating {name} are supported, got dtype {mask.dtype}")
    return mask if mask.dtype == dtype else mask.astype(dtype)


class MultiheadAttention(Module):
    """Multi-head attention, PyTorch's ``nn.MultiheadAttention``:

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O^T + b_O, head_i = Attention(Q W_Qi^T, K W_Ki^T, V W_Vi^T),
    each head of width embed_dim / num_heads, Attention(q, k, v) = softmax(q k^T / sqrt(head_dim) + M) v.

    Parameters (and state-dict keys) as PyTorch: ``in_proj_weight`` (3*embed_dim, embed_dim) holding
    W_Q, W_K, W_V stacked, or, when ``kdim`` or ``vdim`` differ from embed_dim, ``q_proj_weight``
    (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) with ``in_proj_weight`` None;
    ``in_proj_bias`` (3*E,) when ``bias``; ``bias_k``, ``bias_v`` (1, 1, E) when ``add_bias_kv``;
    ``out_proj`` a Linear(E, E, bias). Initialization: xavier_uniform_ on the projection weights,
    zero ``in_proj_bias`` and ``out_proj.bias``, xavier_normal_ on ``bias_k``/``bias_v``, ``out_proj.weight``
    as Linear's default.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` takes query (L, N, E), key (S, N, kdim), value
    (S, N, vdim) ((N, L, E) ... with ``batch_first``), or unbatched (L, E), (S, kdim), (S, vdim).
    ``key_padding_mask`` (N, S) (or (S,)); ``attn_mask`` (L, S) or (N*num_heads, L, S) (or
    (num_heads, L, S)); bool masks are True where attending is *not* allowed, float masks are added.
    ``add_bias_kv`` appends ``bias_k``/``bias_v`` to the keys and values, ``add_zero_attn`` a zero key and
    value per head (the masks get a column that allows them). ``is_causal`` is a hint that ``attn_mask``
    is the causal mask (it must be given): with ``need_weights=False`` and no ``key_padding_mask`` the
    causal mask is applied in its place, as PyTorch does. Returns ``(output, weights)``: output as
    query, weights (N, L, S) averaged over heads, (N, num_heads, L, S) with
    ``average_attn_weights=False``, or None when ``need_weights`` is False. Dropout on the weights
    only in training.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):  # fmt: skip
        super().__init__()
        op = "MultiheadAttention"
        _check_positive_int(op, "embed_dim", embed_dim)
        _check_positive_int(op, "num_heads", num_heads)
        if embed_dim % num_heads:
            raise ArgumentError(f"{op}: embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        for name, d in (("kdim", kdim), ("vdim", vdim)):
            if d is not None:
                _check_positive_int(op, name, d)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ArgumentError(f"{op}: dropout must be a number in [0, 1], got {dropout!r}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, float(dropout), batch_first
        self.head_dim = embed_dim // num_heads
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty_tensor((3 * E, E), dtype, device))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(creation.empty_tensor((E, E), dtype, device))
            self.k_proj_weight = Parameter(creation.empty_tensor((E, self.kdim), dtype, device))
            self.v_proj_weight = Parameter(creation.empty_tensor((E, self.vdim), dtype, device))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty_tensor((3 * E,), dtype, device))
        else:
            self.register_parameter("in_proj_bias", None)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty_tensor((1, 1, E), dtype, device))
            self.bias_v = Parameter(creation.empty_tensor((1, 1, E), dtype, device))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype, device=device)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"

    # -- checks ----------------------------------------------------------------------------------------------

    def _check_inputs(self, query, key, value, key_padding_mask, attn_mask) -> bool:
        """Check shapes and dtypes; return whether the input is unbatched."""
        op = "MultiheadAttention"
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise DTypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
            if not _is_float(t):
                raise DTypeError(f"{op}: {name} must be a floating tensor, got dtype {t.dtype}")
        qs, ks, vs = tuple(query.shape), tuple(key.shape), tuple(value.shape)
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(f"{op}: expected query, key and value all 3-D {layout} (batch_first="
                             f"{self.batch_first}) or all 2-D (L, E) unbatched, got query {qs}, key {ks}, "
                             f"value {vs}")  # fmt: skip
        unbatched = query.ndim == 2
        for name, t, d in (("query", qs, self.embed_dim), ("key", ks, self.kdim), ("value", vs, self.vdim)):
            if t[-1] != d:
                which = "embed_dim" if name == "query" else name[0] + "dim"
                raise ShapeError(f"{op}: {name} of shape {t} has {t[-1]} features in its last dimension, expected "
                                 f"{which}={d} (layout {'(L, E)' if unbatched else layout})")  # fmt: skip
        b, s = (0, 1) if self.batch_first else (1, 0)
        if not unbatched and not (qs[b] == ks[b] == vs[b]):
            raise ShapeError(f"{op}: query {qs}, key {ks} and value {vs} have different batch sizes in dimension "
                             f"{b} (batch_first={self.batch_first}, layout {layout})")  # fmt: skip
        if ks[s if not unbatched else 0] != vs[s if not unbatched else 0]:
            raise ShapeError(f"{op}: key {ks} and value {vs} have different sequence lengths")
        if query.dtype != key.dtype or query.dtype != value.dtype:
            raise DTypeError(f"{op}: query, key and value must have one dtype, got {query.dtype}, {key.dtype}, "
                             f"{value.dtype}")  # fmt: skip
        n = 1 if unbatched else qs[b]
        L, S = (qs[0], ks[0]) if unbatched else (qs[s], ks[s])
        if key_padding_mask is not None:
            expected = (S,) if unbatched else (n, S)
            if not isinstance(key_padding_mask, Tensor) or tuple(key_padding_mask.shape) != expected:
                got = tuple(key_padding_mask.shape) if isinstance(key_padding_mask, Tensor) else key_padding_mask
                raise ShapeError(f"{op}: key_padding_mask must have shape {expected} (batch, source length) for "
                                 f"key of shape {ks}, got {got}")  # fmt: skip
        if attn_mask is not None:
            allowed = [(L, S), (self.num_heads if unbatched else n * self.num_heads, L, S)]
            if not isinstance(attn_mask, Tensor) or tuple(attn_mask.shape) not in allowed:
                got = tuple(attn_mask.shape) if isinstance(attn_mask, Tensor) else attn_mask
                raise ShapeError(f"{op}: attn_mask must have shape {allowed[0]} or {allowed[1]} (batch * num_heads, "
                                 f"target length, source length) for query {qs} and key {ks}, got {got}")  # fmt: skip
        return unbatched

    # -- forward ---------------------------------------------------------------------------------------------

    def _project(self, query, key, value):
        E, b = self.embed_dim, self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one GEMM
                qkv = linear(query, w, b)
                return qkv[..., :E], qkv[..., E : 2 * E], qkv[..., 2 * E :]
            wq, wk, wv = w[:E], w[E : 2 * E], w[2 * E :]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):  # fmt: skip
        op = "MultiheadAttention"
        unbatched = self._check_inputs(query, key, value, key_padding_mask, attn_mask)
        if is_causal and attn_mask is None:
            raise ArgumentError(f"{op}: is_causal=True is a hint that attn_mask is the causal mask; pass attn_mask too")
        dtype = query.dtype
        same = (query is key, key is value)
        if unbatched:  # -> (1, L, E)
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        if same[0] and same[1]:
            key = value = query
        elif same[1]:
            value = key
        N, L, _ = query.shape
        H, D = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)

        causal_only = is_causal and key_padding_mask is None and not need_weights
        mask = None
        if attn_mask is not None and not causal_only:
            mask = _float_mask(op, "attn_mask", attn_mask, dtype)
            mask = mask.reshape(N, H, L, -1) if mask.ndim == 3 else mask
        kpm = None if key_padding_mask is None else _float_mask(op, "key_padding_mask", key_padding_mask, dtype)

        if self.bias_k is not None:  # one more key/value, that every query may attend to
            k = concatenate([k, self.bias_k.expand(N, 1, self.embed_dim)], dim=1)
            v = concatenate([v, self.bias_v.expand(N, 1, self.embed_dim)], dim=1)
            mask = None if mask is None else F.pad(mask, (0, 1))
            kpm = None if kpm is None else F.pad(kpm, (0, 1))
        S = k.shape[1]
        q = q.reshape(N, L, H, D).transpose(1, 2)  # (N, H, L, D)
        k = k.reshape(N, S, H, D).transpose(1, 2)
        v = v.reshape(N, S, H, D).transpose(1, 2)
        if self.add_zero_attn:  # a zero key and value per head
            zeros = creation.zeros((N, H, 1, D), dtype=dtype, device=q.device)
            k, v = concatenate([k, zeros], dim=2), concatenate([v, zeros], dim=2)
            mask = None if mask is None else F.pad(mask, (0, 1))
            kpm = None if kpm is None else F.pad(kpm, (0, 1))
        if kpm is not None:
            kpm = kpm.reshape(N, 1, 1, -1)
            mask = kpm if mask is None else mask + kpm
        p = self.dropout if self.training else 0.0
        scale = 1.0 / math.sqrt(D)
        out, weights = _attend(q, k, v, mask, p, scale, causal_only, safe=not need_weights)
        out = out.transpose(1, 2).reshape(N, L, self.embed_dim)
        out = self.out_proj(out)
        if unbatched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, (weights.squeeze(0) if unbatched else weights)


# --- Transformer layers ----------------------------------------------------------------------------------------


def _layer_norm(d_model: int, eps: float, bias: bool, device, dtype):
    from .normalization import LayerNorm  # imported here: normalization is a sibling module of nn

    return LayerNorm(d_model, eps=eps, bias=bias, device=device, dtype=dtype)


def _activation(op: str, activation):
    """``"relu"`` / ``"gelu"`` -> the function, a callable (a function or a Module) as it is."""
    if isinstance(activation, str):
        if activation == "relu":
            return relu
        if activation == "gelu":
            from .activation import gelu

            return gelu
        raise ArgumentError(f"{op}: activation should be 'relu' or 'gelu' (or a callable), not {activation!r}")
    if not callable(activation):
        raise ArgumentError(f"{op}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


def _check_layer_args(op: str, d_model, nhead, dim_feedforward, dropout) -> None:
    _check_positive_int(op, "d_model", d_model)
    _check_positive_int(op, "nhead", nhead)
    _check_positive_int(op, "dim_feedforward", dim_feedforward)
    if d_model % nhead:
        raise ArgumentError(f"{op}: d_model={d_model} must be divisible by nhead={nhead}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
        raise ArgumentError(f"{op}: dropout must be a number in [0, 1], got {dropout!r}")


def _check_sequence(op: str, name: str, x, d_model: int, batch_first: bool) -> None:
    if not isinstance(x, Tensor):
        raise DTypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    layout = "(N, S, E)" if batch_first else "(S, N, E)"
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise ShapeError(f"{op}: {name} must have shape {layout} (batch_first={batch_first}) or (S, E) unbatched, "
                         f"E = d_model = {d_model}; got {tuple(x.shape)}")  # fmt: skip


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and LayerNorm, PyTorch's
    ``nn.TransformerEncoderLayer``:

    post-norm (``norm_first=False``): x = norm1(x + SA(x)); x = norm2(x + FF(x));
    pre-norm (``norm_first=True``):  x = x + SA(norm1(x)); x = x + FF(norm2(x)),

    SA(x) = dropout1(self_attn(x, x, x)), FF(x) = dropout2(linear2(dropout(activation(linear1(x))))).
    Submodules (and state-dict keys) as PyTorch: ``self_attn`` (MultiheadAttention(d_model, nhead,
    dropout, bias, batch_first)), ``linear1`` (d_model -> dim_feedforward), ``dropout``, ``linear2``,
    ``norm1``, ``norm2`` (LayerNorm(d_model, layer_norm_eps, bias)), ``dropout1``, ``dropout2``.
    ``activation`` is ``"relu"``, ``"gelu"`` or a callable.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: src (S, N, E), or
    (N, S, E) with ``batch_first``, or (S, E); masks as :class:`MultiheadAttention` (``is_causal`` is the
    hint that ``src_mask`` is causal).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):  # fmt: skip
        super().__init__()
        op = type(self).__name__
        _check_layer_args(op, d_model, nhead, dim_feedforward, dropout)
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = _layer_norm(d_model, layer_norm_eps, bias, **kw)
        self.norm2 = _layer_norm(d_model, layer_norm_eps, bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(op, activation)
        self.d_model, self.batch_first = d_model, batch_first

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]  # fmt: skip
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        _check_sequence(type(self).__name__, "src", src, self.d_model, self.batch_first)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output (``memory``) and a feed-forward block, each with a
    residual connection and LayerNorm, PyTorch's ``nn.TransformerDecoderLayer``:

    post-norm: x = norm1(x + SA(x)); x = norm2(x + MHA(x, memory)); x = norm3(x + FF(x));
    pre-norm:  x = x + SA(norm1(x)); x = x + MHA(norm2(x), memory); x = x + FF(norm3(x)).

    Submodules as PyTorch: ``self_attn``, ``multihead_attn``, ``linear1``, ``dropout``, ``linear2``,
    ``norm1``-``norm3``, ``dropout1``-``dropout3``.
    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):  # fmt: skip
        super().__init__()
        op = type(self).__name__
        _check_layer_args(op, d_model, nhead, dim_feedforward, dropout)
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                 **kw)  # fmt: skip
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = _layer_norm(d_model, layer_norm_eps, bias, **kw)
        self.norm2 = _layer_norm(d_model, layer_norm_eps, bias, **kw)
        self.norm3 = _layer_norm(d_model, layer_norm_eps, bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(op, activation)
        self.d_model, self.batch_first = d_model, batch_first

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]  # fmt: skip
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]  # fmt: skip
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False):  # fmt: skip
        op = type(self).__name__
        _check_sequence(op, "tgt", tgt, self.d_model, self.batch_first)
        _check_sequence(op, "memory", memory, self.d_model, self.batch_first)
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x))


def _clones(op: str, layer, num_layers):
    if not isinstance(layer, Module):
        raise ArgumentError(f"{op}: the layer to stack must be a Module, got {type(layer).__name__}")
    _check_positive_int(op, "num_layers", num_layers)
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


def _is_causal_mask(mask) -> bool:
    """Whether ``mask`` is the square causal mask (-inf, or True for a bool mask, exactly above the diagonal)."""
    if mask is None or mask.ndim != 2 or mask.shape[0] != mask.shape[1]:
        return False
    xp, data = mask.xp, mask.array
    above = xp.triu(xp.ones(data.shape, dtype=bool), 1)
    if data.dtype == np.bool_:
        return bool(xp.array_equal(data, above))
    return bool(xp.array_equal(data, xp.where(above, -np.inf, 0.0).astype(data.dtype)))


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` (``layers.0.``, ``layers.1.``, ... as PyTorch's
    ``nn.TransformerEncoder``), then ``norm`` if given.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``: ``is_causal=None`` detects
    whether ``mask`` is the square causal mask, as PyTorch; the hint is passed on to every layer.
    ``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch's signature (nested tensors are an
    inference speed-up that changes no number).
    """

    def __init__(self, encoder_layer, num_layers: int, norm=None, enable_nested_tensor: bool = True,
                 mask_check: bool = True):  # fmt: skip
        super().__init__()
        self.layers = _clones(type(self).__name__, encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        if is_causal is None:
            is_causal = _is_causal_mask(mask)
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` (``layers.0.`` ...), then ``norm`` if given, PyTorch's
    ``nn.TransformerDecoder``. ``forward(tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``."""

    def __init__(self, decoder_layer, num_layers: int, norm=None):
        super().__init__()
        self.layers = _clones(type(self).__name__, decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False):  # fmt: skip
        if tgt_is_causal is None:
            tgt_is_causal = _is_causal_mask(tgt_mask)
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                      memory_is_causal=memory_is_causal)  # fmt: skip
        return x if self.norm is None else self.norm(x)


def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """The (sz, sz) causal float mask: -inf above the diagonal, 0 elsewhere (minigrad's default float dtype
    unless ``dtype``), PyTorch's ``nn.Transformer.generate_square_subsequent_mask``."""
    _check_positive_int("generate_square_subsequent_mask", "sz", sz)
    return triu(creation.full((sz, sz), float("-inf"), dtype=dtype, device=device), diagonal=1)


class Transformer(Module):
    """An encoder-decoder Transformer, PyTorch's ``nn.Transformer``: ``encoder`` (TransformerEncoder of
    ``num_encoder_layers`` TransformerEncoderLayers and a final LayerNorm) and ``decoder`` (likewise), or
    ``custom_encoder`` / ``custom_decoder``. Every parameter with more than one dimension is then
    re-initialized with xavier_uniform_, as PyTorch.

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False)`` returns decoder(tgt, encoder(src)).
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):  # fmt: skip
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                      bias)  # fmt: skip
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(*layer_args, **kw)
            self.encoder = TransformerEncoder(
                layer, num_encoder_layers, _layer_norm(d_model, layer_norm_eps, bias, **kw)
            )
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(*layer_args, **kw)
            self.decoder = TransformerDecoder(
                layer, num_decoder_layers, _layer_norm(d_model, layer_norm_eps, bias, **kw)
            )
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False):  # fmt: skip
        b = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[b] != tgt.shape[b]:
            raise ShapeError(f"Transformer: src {tuple(src.shape)} and tgt {tuple(tgt.shape)} have different batch "
                             f"sizes (batch_first={self.batch_first})")  # fmt: skip
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)  # fmt: skip
