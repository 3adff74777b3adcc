"""Parity with PyTorch for minigrad.nn.attention: F.scaled_dot_product_attention and
nn.MultiheadAttention, float64. Every PyTorch module's state dict loads strictly into the minigrad one
and both give the same outputs, attention weights and input gradients."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402
from minigrad.nn import functional as F  # noqa: E402

TF = torch.nn.functional


def _pair(shape, rng):
    a = rng.standard_normal(shape)
    return mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _close(m, t, tol=1e-10):
    t = t.detach().numpy()
    np.testing.assert_allclose(m.numpy(), t, rtol=tol, atol=tol, equal_nan=True)


def _load(mg_module, torch_module):
    sd = {k: mg.tensor(v.detach().numpy().copy()) for k, v in torch_module.state_dict().items()}
    assert list(mg_module.state_dict()) == list(sd)
    for k, v in mg_module.state_dict().items():
        assert tuple(v.shape) == tuple(sd[k].shape), k
    mg_module.load_state_dict(sd, strict=True)


MASKS = ["none", "bool", "float", "causal", "dead_row"]


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("shape", [((2, 3, 4), (2, 5, 4), (2, 5, 6)), ((1, 2, 4, 3), (1, 2, 4, 3), (1, 2, 4, 2))])
def test_sdpa_matches_torch(mask, shape):
    rng = np.random.default_rng(0)
    (qm, qt), (km, kt), (vm, vt) = (_pair(s, rng) for s in shape)
    L, S = shape[0][-2], shape[1][-2]
    kw_m, kw_t = {}, {}
    if mask in ("bool", "dead_row"):
        b = rng.random((L, S)) > 0.4
        b[:, 0] = True
        if mask == "dead_row":
            b[1] = False
        kw_m["attn_mask"], kw_t["attn_mask"] = mg.tensor(b), torch.tensor(b)
    elif mask == "float":
        f = rng.standard_normal((L, S))
        kw_m["attn_mask"], kw_t["attn_mask"] = mg.tensor(f), torch.tensor(f)
    elif mask == "causal":
        kw_m["is_causal"] = kw_t["is_causal"] = True
    om = F.scaled_dot_product_attention(qm, km, vm, **kw_m)
    ot = TF.scaled_dot_product_attention(qt, kt, vt, **kw_t)
    _close(om, ot)
    g = rng.standard_normal(ot.shape)
    om.backward(mg.tensor(g))
    ot.backward(torch.tensor(g))
    for a, b in ((qm, qt), (km, kt), (vm, vt)):
        _close(a.grad, b.grad)


def test_sdpa_scale_and_gqa_match_torch():
    rng = np.random.default_rng(1)
    (qm, qt), (km, kt), (vm, vt) = (_pair(s, rng) for s in ((2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 3)))
    om = F.scaled_dot_product_attention(qm, km, vm, scale=0.3, enable_gqa=True)
    ot = TF.scaled_dot_product_attention(qt, kt, vt, scale=0.3, enable_gqa=True)
    _close(om, ot)
    om.sum().backward()
    ot.sum().backward()
    _close(km.grad, kt.grad)


MHA_CONFIGS = [
    dict(),
    dict(bias=False),
    dict(kdim=3, vdim=5),
    dict(add_bias_kv=True),
    dict(add_zero_attn=True),
    dict(add_bias_kv=True, add_zero_attn=True, batch_first=True),
    dict(batch_first=True),
]


@pytest.mark.parametrize("config", MHA_CONFIGS, ids=[str(c) for c in MHA_CONFIGS])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", ["none", "bool", "float", "both"])
def test_mha_matches_torch(config, need_weights, masks):
    torch.manual_seed(0)
    E, H, L, S, N = 4, 2, 3, 5, 2
    tm = torch.nn.MultiheadAttention(E, H, **config).double()
    mm = nn.MultiheadAttention(E, H, dtype="float64", **config)
    _load(mm, tm)
    rng = np.random.default_rng(2)
    bf = config.get("batch_first", False)
    lay = (lambda n, s, e: (n, s, e)) if bf else (lambda n, s, e: (s, n, e))
    (qm, qt) = _pair(lay(N, L, E), rng)
    (km, kt) = _pair(lay(N, S, config.get("kdim", E)), rng)
    (vm, vt) = _pair(lay(N, S, config.get("vdim", E)), rng)
    kw_m, kw_t = {}, {}
    if masks in ("bool", "both"):
        kp = np.zeros((N, S), bool)
        kp[0, -2:] = True
        kw_m["key_padding_mask"], kw_t["key_padding_mask"] = mg.tensor(kp), torch.tensor(kp)
    if masks in ("float", "both"):
        am = rng.standard_normal((N * H, L, S)) if masks == "float" else rng.standard_normal((L, S))
        kw_m["attn_mask"], kw_t["attn_mask"] = mg.tensor(am), torch.tensor(am)
    om, wm = mm(qm, km, vm, need_weights=need_weights, **kw_m)
    ot, wt = tm(qt, kt, vt, need_weights=need_weights, **kw_t)
    _close(om, ot)
    if need_weights:
        _close(wm, wt)
    else:
        assert wm is None and wt is None
    g = rng.standard_normal(ot.shape)
    om.backward(mg.tensor(g))
    ot.backward(torch.tensor(g))
    for a, b in ((qm, qt), (km, kt), (vm, vt)):
        _close(a.grad, b.grad)
    grads_t = dict(tm.named_parameters())
    for name, p in mm.named_parameters():
        _close(p.grad, grads_t[name].grad)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_self_attention_unbatched_per_head_weights_and_causal(need_weights):
    torch.manual_seed(0)
    E, H, L = 6, 3, 4
    tm = torch.nn.MultiheadAttention(E, H).double()
    mm = nn.MultiheadAttention(E, H, dtype="float64")
    _load(mm, tm)
    rng = np.random.default_rng(3)
    xm, xt = _pair((L, E), rng)
    causal = np.triu(np.ones((L, L), bool), 1)
    om, wm = mm(xm, xm, xm, attn_mask=mg.tensor(causal), is_causal=True, need_weights=need_weights,
                average_attn_weights=False)  # fmt: skip
    ot, wt = tm(xt, xt, xt, attn_mask=torch.tensor(causal), is_causal=True, need_weights=need_weights,
                average_attn_weights=False)  # fmt: skip
    _close(om, ot)
    if need_weights:
        assert tuple(wm.shape) == (H, L, L)
        _close(wm, wt)
    om.sum().backward()
    ot.sum().backward()
    _close(xm.grad, xt.grad)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_fully_masked_row_as_torch(need_weights):
    """need_weights=True: NaN (plain softmax), need_weights=False: the row is out_proj.bias (safe softmax)."""
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(4, 2, batch_first=True).double()
    mm = nn.MultiheadAttention(4, 2, batch_first=True, dtype="float64")
    _load(mm, tm)
    with torch.no_grad():
        tm.out_proj.bias.uniform_()
    mm.out_proj.bias.array[...] = tm.out_proj.bias.detach().numpy()
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    kp = np.zeros((2, 3), bool)
    kp[1] = True
    tm.train()  # PyTorch's inference fast path is not what we compare with
    om, _ = mm(mg.tensor(x), mg.tensor(x), mg.tensor(x), key_padding_mask=mg.tensor(kp), need_weights=need_weights)
    ot, _ = tm(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(kp), need_weights=need_weights)
    _close(om, ot)
    assert np.isnan(om.numpy()[1]).all() == need_weights


def test_mha_init_statistics_like_torch():
    m = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()
    ]
    bound = np.sqrt(6 / (64 + 192))
    w = m.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert float(t.in_proj_weight.abs().max()) <= bound
    assert not m.in_proj_bias.numpy().any() and not m.out_proj.bias.numpy().any()
    assert np.abs(m.out_proj.weight.numpy()).max() <= 1 / 8


# --- Transformer layers ---------------------------------------------------------------------------------------------


needs_layer_norm = pytest.mark.skipif(
    not hasattr(nn, "LayerNorm"), reason="needs nn.LayerNorm and F.gelu (branch nn-act-norm, merged separately)"
)

LAYER_CONFIGS = [
    dict(),
    dict(norm_first=True),
    dict(activation="gelu", batch_first=True),
    dict(activation="gelu", norm_first=True, bias=False, layer_norm_eps=1e-3),
]


def _layer_inputs(batch_first, rng, S=5, N=2, E=8):
    return _pair((N, S, E) if batch_first else (S, N, E), rng)


@needs_layer_norm
@pytest.mark.parametrize("config", LAYER_CONFIGS, ids=[str(c) for c in LAYER_CONFIGS])
@pytest.mark.parametrize("masks", ["none", "causal", "padding"])
def test_encoder_matches_torch(config, masks):
    torch.manual_seed(0)
    kw = dict(dim_feedforward=16, dropout=0.0, **config)
    tl = torch.nn.TransformerEncoderLayer(8, 2, **kw).double()
    te = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8).double(), enable_nested_tensor=False)
    ml = nn.TransformerEncoderLayer(8, 2, dtype="float64", **kw)
    me = nn.TransformerEncoder(ml, 2, norm=nn.LayerNorm(8, dtype="float64"))
    _load(me, te)
    rng = np.random.default_rng(5)
    xm, xt = _layer_inputs(config.get("batch_first", False), rng)
    kw_m, kw_t = {}, {}
    if masks == "causal":
        kw_m["mask"] = nn.Transformer.generate_square_subsequent_mask(5, dtype="float64")
        kw_t["mask"] = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    elif masks == "padding":
        kp = np.zeros((2, 5), bool)
        kp[1, 3:] = True
        kw_m["src_key_padding_mask"], kw_t["src_key_padding_mask"] = mg.tensor(kp), torch.tensor(kp)
    om, ot = me(xm, **kw_m), te(xt, **kw_t)
    _close(om, ot)
    om.sum().backward()
    ot.sum().backward()
    _close(xm.grad, xt.grad)
    grads_t = dict(te.named_parameters())
    for name, p in me.named_parameters():
        _close(p.grad, grads_t[name].grad)


@needs_layer_norm
@pytest.mark.parametrize("config", LAYER_CONFIGS[:3], ids=[str(c) for c in LAYER_CONFIGS[:3]])
def test_transformer_matches_torch(config):
    torch.manual_seed(0)
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0)
    tt = torch.nn.Transformer(**kw, **config).double()
    mt = nn.Transformer(**kw, **config, dtype="float64")
    _load(mt, tt)
    rng = np.random.default_rng(6)
    bf = config.get("batch_first", False)
    (sm, st_), (tm_, tt_) = _layer_inputs(bf, rng, S=5), _layer_inputs(bf, rng, S=4)
    om = mt(sm, tm_, tgt_mask=mt.generate_square_subsequent_mask(4, dtype="float64"))
    ot = tt(st_, tt_, tgt_mask=tt.generate_square_subsequent_mask(4, dtype=torch.float64))
    _close(om, ot)
    om.sum().backward()
    ot.sum().backward()
    _close(sm.grad, st_.grad)
    _close(tm_.grad, tt_.grad)


@needs_layer_norm
def test_transformer_init_and_mask_like_torch():
    m = nn.Transformer(8, 2, 1, 1, 16)
    t = torch.nn.Transformer(8, 2, 1, 1, 16)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()
    ]
    w = m.encoder.layers[0].linear1.weight.numpy()  # xavier_uniform_ over every matrix, as PyTorch
    bound = np.sqrt(6 / (8 + 16))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == np.float32
    np.testing.assert_array_equal(mask.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
