"""Every example runs on its tiny setting, so none can rot."""

import importlib
import pathlib
import sys

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def example(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))

    def load(name):
        sys.modules.pop(name, None)
        return importlib.import_module(name)

    return load


def test_every_example_is_tested():
    tested = {"train_digits", "optimizer_zoo", "momentum_theory", "schedules", "gradcheck_tour", "sanity_checks",
              "newton_vs_gd", "draw_graph", "newton_cg",
              "char_lstm", "tiny_transformer_lm", "vae_digits", "sine_lstmcell", "dcgan_digits"}  # fmt: skip
    assert {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")} == tested


def test_train_digits(example, tmp_path):
    accuracy = example("train_digits").main(["--quick", "--out", str(tmp_path)])
    assert 0.0 <= accuracy <= 1.0


def test_optimizer_zoo(example, tmp_path):
    paths = example("optimizer_zoo").main(["--quick", "--out", str(tmp_path)])
    assert len(paths) == 8 and all(p.shape == (6, 2) for p in paths.values())


def test_momentum_theory_matches_the_formulas(example, tmp_path):
    for _kappa, gd, gd_theory, hb, hb_theory in example("momentum_theory").main(["--quick", "--out", str(tmp_path)]):
        assert gd == pytest.approx(gd_theory, rel=0.01) and hb == pytest.approx(hb_theory, rel=0.01)


def test_schedules(example, tmp_path):
    curves = example("schedules").main(["--quick", "--out", str(tmp_path)])
    assert curves["warmup + cosine"][0] == 0.0 and curves["cosine"][-1] == pytest.approx(0.0)


def test_gradcheck_tour_catches_the_planted_bug(example, tmp_path):
    report = example("gradcheck_tour").main(["--quick", "--out", str(tmp_path)])
    assert not report.passed and report.verdict in ("suspicious", "wrong")


def test_sanity_checks(example, tmp_path):
    report, bad = example("sanity_checks").main(["--quick", "--out", str(tmp_path)])
    assert len(report.results) == 4 and not bad.passed and "too high" in bad.message


def test_newton_converges_quadratically_and_gd_linearly(example, tmp_path):
    newton, gd = example("newton_vs_gd").main(["--quick", "--out", str(tmp_path)])
    best = min(newton.min(), gd.min())
    errors = newton[:4] - best
    assert errors[2] < errors[1] ** 1.5 and np.all(np.diff(gd) < 0)


def test_draw_graph_draws_both_tapes(example, tmp_path):
    graphs = example("draw_graph").main(["--quick", "--out", str(tmp_path)])
    assert {name: g.boxes for name, g in graphs.items()} == {"tape.svg": 7, "mlp_tape.svg": 8}


def test_newton_cg_beats_gradient_descent_by_gradient_evaluations(example, tmp_path):
    quadratic, mlp = example("newton_cg").main(["--quick", "--out", str(tmp_path)])
    assert all(r["f"] <= 1e-8 for r in quadratic.values())
    gd = quadratic["gradient descent (lr 2/(L+mu))"]["cost"]
    assert 10 * quadratic["NewtonCG, damping 1e-8"]["cost"] < gd and 5 * quadratic["NewtonCG"]["cost"] < gd
    assert quadratic["Newton (dense H)"]["grads"] == 1  # one Newton step solves a quadratic
    assert all(r["curve"][-1, 1] < r["curve"][0, 1] / 2 for r in mlp.values())  # every method fits the MLP
    for name in ("Newton (dense H)", "NewtonCG"):  # a line search / a rejected step never lets the loss rise
        assert np.all(np.diff(mlp[name]["curve"][:, 1]) <= 0)


# the PyTorch-style models of issue #17: each trains on its tiny setting until its loss clearly falls
def quarters(losses):
    """The mean loss of the first and of the last quarter of training."""
    n = max(1, len(losses) // 4)
    return float(np.mean(losses[:n])), float(np.mean(losses[-n:]))


def test_char_lstm_learns_and_samples(example, tmp_path):
    result = example("char_lstm").main(["--quick", "--out", str(tmp_path)])
    first, last = quarters(result["losses"])
    assert first > result["uniform"] - 0.6 and last < 0.8 * first, (first, last)
    sample = result["sample"]
    assert sample.startswith("The river ") and len(sample) == len("The river ") + 40
    assert set(sample) <= result["alphabet"]


def test_tiny_transformer_lm_learns_ties_its_head_and_splits_weight_decay(example, tmp_path):
    result = example("tiny_transformer_lm").main(["--quick", "--out", str(tmp_path)])
    first, last = quarters(result["losses"])
    assert first > result["uniform"] - 0.6 and last < 0.85 * first, (first, last)
    model, (decay, no_decay) = result["model"], result["groups"]
    assert model.head.weight is model.tok_emb.weight  # tied: one parameter, both keys in the state dict
    assert {"tok_emb.weight", "head.weight"} <= set(model.state_dict()) and "causal_mask" not in model.state_dict()
    params = list(model.parameters())
    assert len(decay["params"]) + len(no_decay["params"]) == len(params)  # every parameter once
    assert all(p.dim() == 2 for p in decay["params"]) and decay["weight_decay"] > 0 == no_decay["weight_decay"]
    assert not any(p is model.tok_emb.weight or p is model.pos_emb.weight for p in decay["params"])
    for text in (result["greedy"], result["top_k"]):
        assert text.startswith("The river ") and len(text) == len("The river ") + 30 and set(text) <= result["alphabet"]


def test_vae_digits_learns_and_samples_a_grid(example, tmp_path):
    result = example("vae_digits").main(["--quick", "--out", str(tmp_path)])
    first, last = quarters(result["losses"])
    assert last < 0.8 * first and result["test_loss"] < 0.8 * first, (first, last, result["test_loss"])
    grid, samples = result["grid"], result["samples"]
    assert grid.shape == (64, 64) and samples.shape == (64, 1, 8, 8) and 0.0 <= grid.min() <= grid.max() <= 1.0
    np.testing.assert_array_equal(grid[8:16, 24:32], samples[8 + 3, 0])  # grid row 1, column 3: sample 11


def test_sine_lstmcell_fits_with_lbfgs_and_continues_the_wave(example, tmp_path):
    result = example("sine_lstmcell").main(["--quick", "--out", str(tmp_path)])
    losses = result["losses"]  # every closure evaluation; the line search may probe above the start
    assert losses[-1] < 0.01 * losses[0] and result["test_mse"] < 0.01 * losses[0], (losses[0], losses[-1])
    assert result["future_mse"] < 0.25  # a sine of amplitude 1 has variance 0.5: the continuation tracks it
    assert result["prediction"].shape == (4, 40 - 1 + 20 + 1)


def test_dcgan_digits_moves_its_samples_towards_the_digits(example, tmp_path):
    result = example("dcgan_digits").main(["--quick", "--out", str(tmp_path)])
    first, last = quarters(result["moments"])  # GAN losses see-saw; the samples' moment distance falls
    assert last < 0.85 * first, (first, last)
    assert all(np.isfinite(result["errD"])) and all(np.isfinite(result["errG"]))
    assert all(0.0 < d < 1.0 for d in result["D(x)"])
    samples, grid = result["samples"], result["grid"]
    assert samples.shape == (64, 1, 8, 8) and grid.shape == (64, 64) and -1.0 <= grid.min() <= grid.max() <= 1.0
    np.testing.assert_array_equal(grid[56:64, 0:8], samples[7 * 8, 0])  # grid row 7, column 0: sample 56
    netG, netD = result["netG"], result["netD"]
    assert netG.main[0].weight.shape == (16, 64, 2, 2)  # ConvTranspose2d: (in, out, kH, kW)
    assert list(netD.state_dict())[-4:] == ["main.3.running_mean", "main.3.running_var", "main.3.num_batches_tracked",
                                            "main.5.weight"]  # fmt: skip
