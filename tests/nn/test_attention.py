"""Attention (minigrad.nn.attention): scaled_dot_product_attention and MultiheadAttention against a
NumPy transcription of the documented formulas (float64), gradcheck on small hypothesis shapes, masks
(bool, float, causal, fully masked rows), dropout under a seed, and the errors for bad input."""

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.errors import ArgumentError, DTypeError, ShapeError
from minigrad.nn import functional as F


@pytest.fixture(autouse=True)
def _seeded():
    with mg.fork_rng():
        mg.manual_seed(0)
        yield


def np_sdpa(q, k, v, mask=None, causal=False, scale=None):
    """softmax(q k^T * scale + M) v; a bool mask is True where attending is allowed; rows with no allowed key -> 0."""
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    allowed = np.ones(s.shape, bool)
    if causal:
        allowed &= np.tril(np.ones(s.shape[-2:], bool))
    if mask is not None and mask.dtype == bool:
        allowed &= mask
    elif mask is not None:
        s = s + mask
    s = np.where(allowed, s, -np.inf)
    dead = np.isneginf(s).all(-1, keepdims=True)
    s = np.where(dead, 0, s)
    w = np.exp(s - s.max(-1, keepdims=True))
    w = np.where(dead, 0, w / w.sum(-1, keepdims=True))
    return w @ v


def _t(a, device="cpu", requires_grad=False):
    return mg.tensor(a, requires_grad=requires_grad, device=device)


# --- scaled_dot_product_attention ------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal", "dead_row"])
def test_sdpa_forward_matches_numpy(mask, device):
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((2, 3, 6, 2))
    m, causal = None, mask == "causal"
    if mask in ("bool", "dead_row"):
        m = rng.random((4, 6)) > 0.5
        m[:, 0] = True
        if mask == "dead_row":
            m[2] = False
    elif mask == "float":
        m = rng.standard_normal((3, 4, 6))
    out = F.scaled_dot_product_attention(_t(q, device), _t(k, device), _t(v, device),
                                         attn_mask=None if m is None else _t(m, device), is_causal=causal)  # fmt: skip
    expected = np_sdpa(q, k, v, m, causal)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    if mask == "dead_row":
        assert not out.numpy()[:, :, 2].any()


def test_sdpa_scale_causal_rectangular_and_float32():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((5, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    out = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), is_causal=True, scale=0.7)
    np.testing.assert_allclose(out.numpy(), np_sdpa(q, k, v, causal=True, scale=0.7), rtol=1e-12)
    out32 = F.scaled_dot_product_attention(*(_t(a.astype(np.float32)) for a in (q, k, v)))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.numpy(), np_sdpa(q, k, v), rtol=1e-5, atol=1e-6)


def test_sdpa_gqa_repeats_each_kv_head_for_consecutive_query_heads():
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal((1, 4, 3, 2)), rng.standard_normal((1, 2, 5, 2)), rng.standard_normal((1, 2, 5, 3))
    out = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), enable_gqa=True)
    expected = np_sdpa(q, np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def test_sdpa_fully_masked_row_has_zero_gradient():
    rng = np.random.default_rng(3)
    q = _t(rng.standard_normal((3, 4)), requires_grad=True)
    k = _t(rng.standard_normal((5, 4)), requires_grad=True)
    m = np.ones((3, 5), bool)
    m[1] = False
    out = F.scaled_dot_product_attention(q, k, k, attn_mask=_t(m))
    out.sum().backward()
    assert np.isfinite(q.grad.numpy()).all() and not q.grad.numpy()[1].any()
    assert np.isfinite(k.grad.numpy()).all()


def test_sdpa_dropout_is_seeded_and_scales_weights():
    rng = np.random.default_rng(4)
    q, k, v = (_t(rng.standard_normal((2, 6, 4))) for _ in range(3))
    mg.manual_seed(5)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    mg.manual_seed(5)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # the same draw as F.dropout on the weights, then @ v
    mg.manual_seed(5)
    w = F.softmax(q @ k.mT / 2.0, dim=-1)
    expected = F.dropout(w, 0.5) @ v
    np.testing.assert_allclose(a.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    assert not np.allclose(a.numpy(), F.scaled_dot_product_attention(q, k, v).numpy())
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy().any()


@settings(max_examples=15)
@given(L=st.integers(1, 3), S=st.integers(1, 3), E=st.integers(1, 3), batch=st.sampled_from([(), (2,), (1, 2)]),
       mask=st.sampled_from(["none", "bool", "float", "causal"]), seed=st.integers(0, 2**16))  # fmt: skip
def test_sdpa_gradcheck(L, S, E, batch, mask, seed):
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((*batch, L, E)), rng.standard_normal((*batch, S, E)), rng.standard_normal((S, 2))
    kw = {}
    if mask == "bool":
        m = rng.random((L, S)) > 0.5
        m[0] = False  # one fully masked row: zero output, zero gradient
        kw["attn_mask"] = _t(m)
    elif mask == "causal":
        kw["is_causal"] = True
    if mask == "float":
        check_gradients(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                        q, k, v, rng.standard_normal((L, S)))  # fmt: skip
    else:
        check_gradients(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw), q, k, v)


def test_sdpa_second_order():
    rng = np.random.default_rng(6)
    q = _t(rng.standard_normal((2, 3)), requires_grad=True)
    k, v = _t(rng.standard_normal((4, 3))), _t(rng.standard_normal((4, 2)))
    mg.gradgradcheck(lambda q: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q,))


def test_sdpa_errors_name_the_op_and_shapes():
    q, k, v = mg.randn(2, 3, 4), mg.randn(2, 5, 4), mg.randn(2, 5, 6)
    with pytest.raises(ShapeError, match=r"scaled_dot_product_attention.*\(2, 3, 4\).*\(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, mg.randn(2, 5, 3), v)
    with pytest.raises(ShapeError, match="sequence length"):
        F.scaled_dot_product_attention(q, k, mg.randn(2, 4, 6))
    with pytest.raises(ShapeError, match=r"attn_mask of shape \(3, 4\).*\(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mg.ones((3, 4), dtype="bool"))
    with pytest.raises(DTypeError, match="attn_mask must be bool"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mg.ones((3, 5), dtype="int64"))
    with pytest.raises(ArgumentError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mg.ones((3, 5), dtype="bool"), is_causal=True)
    with pytest.raises(ShapeError, match="enable_gqa"):
        F.scaled_dot_product_attention(mg.randn(1, 4, 3, 2), mg.randn(1, 2, 3, 2), mg.randn(1, 2, 3, 2))
    with pytest.raises(ShapeError, match="multiple"):
        F.scaled_dot_product_attention(mg.randn(1, 3, 3, 2), mg.randn(1, 2, 3, 2), mg.randn(1, 2, 3, 2),
                                       enable_gqa=True)  # fmt: skip
    with pytest.raises(ArgumentError, match="dropout_p"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)
    with pytest.raises(DTypeError, match="floating"):
        F.scaled_dot_product_attention(mg.ones((3, 4), dtype="int64"), k, v)


# --- MultiheadAttention ------------------------------------------------------------------------------------------


def np_mha(m, query, key, value, kpm=None, attn_mask=None):
    """PyTorch's documented MultiheadAttention on (N, L, E) arrays, bool masks True = not allowed."""
    E, H = m.embed_dim, m.num_heads
    D = E // H
    w = m.in_proj_weight.numpy()
    b = m.in_proj_bias.numpy()
    q, k, v = query @ w[:E].T + b[:E], key @ w[E : 2 * E].T + b[E : 2 * E], value @ w[2 * E :].T + b[2 * E :]
    N, L, S = q.shape[0], q.shape[1], k.shape[1]
    split = lambda x, n: x.reshape(N, n, H, D).transpose(0, 2, 1, 3)  # noqa: E731
    s = split(q, L) @ split(k, S).transpose(0, 1, 3, 2) / np.sqrt(D)
    if attn_mask is not None:
        s = np.where(attn_mask, -np.inf, s)
    if kpm is not None:
        s = np.where(kpm[:, None, None, :], -np.inf, s)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    o = (p @ split(v, S)).transpose(0, 2, 1, 3).reshape(N, L, E)
    return o @ m.out_proj.weight.numpy().T + m.out_proj.bias.numpy(), p.mean(1)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_forward_matches_numpy(batch_first, device):
    m = nn.MultiheadAttention(6, 3, batch_first=batch_first, dtype="float64", device=device)
    m.in_proj_bias.array[...] = m.in_proj_bias.xp.asarray(np.random.default_rng(0).standard_normal(18))
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 4, 6))
    kpm = np.zeros((2, 4), bool)
    kpm[1, 1:] = True
    am = np.triu(np.ones((3, 4), bool), 1)
    lay = (lambda a: a) if batch_first else (lambda a: a.transpose(1, 0, 2))
    out, w = m(_t(lay(q), device), _t(lay(k), device), _t(lay(v), device), key_padding_mask=_t(kpm, device),
               attn_mask=_t(am, device))  # fmt: skip
    eo, ew = np_mha(m, q, k, v, kpm, am)
    np.testing.assert_allclose(out.numpy(), lay(eo), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.numpy(), ew, rtol=1e-12, atol=1e-12)
    out2, w2 = m(_t(lay(q), device), _t(lay(k), device), _t(lay(v), device), key_padding_mask=_t(kpm, device),
                 attn_mask=_t(am, device), need_weights=False)  # fmt: skip
    assert w2 is None
    np.testing.assert_allclose(out2.numpy(), lay(eo), rtol=1e-12, atol=1e-12)


def test_mha_unbatched_equals_batch_of_one_and_per_head_weights():
    m = nn.MultiheadAttention(4, 2, dtype="float64")
    x = mg.randn(3, 4, dtype="float64")
    o1, w1 = m(x, x, x, average_attn_weights=False)
    o2, w2 = m(x.unsqueeze(1), x.unsqueeze(1), x.unsqueeze(1), average_attn_weights=False)
    assert tuple(o1.shape) == (3, 4) and tuple(w1.shape) == (2, 3, 3) and tuple(w2.shape) == (1, 2, 3, 3)
    np.testing.assert_allclose(o1.numpy(), o2.numpy()[:, 0], rtol=1e-12)
    np.testing.assert_allclose(w1.numpy(), w2.numpy()[0], rtol=1e-12)
    np.testing.assert_allclose(w1.numpy().sum(-1), 1.0, rtol=1e-12)


def test_mha_parameters_and_init():
    m = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert list(m.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k",
                                    "bias_v", "out_proj.weight", "out_proj.bias"]  # fmt: skip
    assert m.in_proj_weight is None and tuple(m.k_proj_weight.shape) == (8, 3)
    assert np.abs(m.k_proj_weight.numpy()).max() <= np.sqrt(6 / 11)
    assert not m.in_proj_bias.numpy().any() and not m.out_proj.bias.numpy().any()
    m2 = nn.MultiheadAttention(8, 2, bias=False)
    assert list(m2.state_dict()) == ["in_proj_weight", "out_proj.weight"]


def test_mha_dropout_only_in_training_and_seeded():
    m = nn.MultiheadAttention(4, 2, dropout=0.5, batch_first=True)
    x = mg.randn(2, 5, 4)
    mg.manual_seed(1)
    a, wa = m(x, x, x)
    mg.manual_seed(1)
    b, _ = m(x, x, x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    m.eval()
    c, wc = m(x, x, x)
    assert not np.allclose(a.numpy(), c.numpy())
    np.testing.assert_allclose(wc.numpy().sum(-1), 1.0, rtol=1e-6)


@settings(max_examples=10)
@given(L=st.integers(1, 3), S=st.integers(1, 3), N=st.integers(1, 2), kv=st.booleans(), zero=st.booleans(),
       seed=st.integers(0, 2**16))  # fmt: skip
def test_mha_gradcheck(L, S, N, kv, zero, seed):
    mg.manual_seed(seed)
    m = nn.MultiheadAttention(4, 2, add_bias_kv=kv, add_zero_attn=zero, kdim=3, dtype="float64")
    rng = np.random.default_rng(seed)
    kpm = np.zeros((N, S), bool)
    kpm[0, -1] = S > 1
    q, k, v = rng.standard_normal((L, N, 4)), rng.standard_normal((S, N, 3)), rng.standard_normal((S, N, 4))
    check_gradients(lambda q, k, v: m(q, k, v, key_padding_mask=_t(kpm))[0], q, k, v)


def test_mha_parameter_gradients_by_gradcheck():
    m = nn.MultiheadAttention(4, 2, batch_first=True, add_bias_kv=True, dtype="float64")
    x = mg.randn(2, 3, 4, dtype="float64")
    names = [n for n, _ in m.named_parameters()]

    def f(*ps):
        for n, p in zip(names, ps):
            owner = m.out_proj if n.startswith("out_proj.") else m
            object.__setattr__(owner, "_parameters", {**owner._parameters, n.split(".")[-1]: p})
        return m(x, x, x)[0]

    base = m(x, x, x)[0].numpy()
    swapped = [mg.tensor(p.numpy() * 1.5) for p in m.parameters()]
    assert not np.allclose(f(*swapped).numpy(), base)  # the inputs are the parameters used
    check_gradients(f, *[p.numpy() for p in m.parameters()])


def test_mha_errors_name_the_layer_and_shapes():
    m = nn.MultiheadAttention(4, 2)
    x = mg.randn(3, 2, 4)
    with pytest.raises(ArgumentError, match=r"MultiheadAttention: embed_dim=5 must be divisible by num_heads=2"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ShapeError, match=r"MultiheadAttention: query of shape \(3, 2, 5\)"):
        m(mg.randn(3, 2, 5), x, x)
    with pytest.raises(ShapeError, match=r"all 3-D \(L, N, E\)"):
        m(mg.randn(1, 3, 2, 4), x, x)
    with pytest.raises(ShapeError, match="batch sizes"):
        m(x, mg.randn(3, 1, 4), mg.randn(3, 1, 4))
    with pytest.raises(ShapeError, match=r"key_padding_mask must have shape \(2, 3\)"):
        m(x, x, x, key_padding_mask=mg.zeros((3, 2), dtype="bool"))
    with pytest.raises(ShapeError, match=r"attn_mask must have shape \(3, 3\) or \(4, 3, 3\)"):
        m(x, x, x, attn_mask=mg.zeros((2, 3, 3), dtype="bool"))
    with pytest.raises(DTypeError, match="only bool and floating attn_mask"):
        m(x, x, x, attn_mask=mg.zeros((3, 3), dtype="int64"))
    with pytest.raises(ArgumentError, match="is_causal"):
        m(x, x, x, is_causal=True)
