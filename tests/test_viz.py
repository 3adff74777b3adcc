"""minigrad.viz: the tape as a picture (DOT source, rendering, collapsing, highlighting, errors)."""

import importlib.util
import re
import shutil
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, viz
from minigrad.errors import GraphError, MissingDependency

needs_graphviz = pytest.mark.skipif(
    importlib.util.find_spec("graphviz") is None or shutil.which("dot") is None,
    reason="rendering needs the graphviz package and Graphviz's dot: pip install 'minigrad[viz]'; apt install graphviz",
)


def _loss():
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = mg.tensor([0.5, 0.5, 0.5], requires_grad=True)
    return ((x * w).tanh() - 1).pow(2).mean(), x, w


def _boxes(source):
    return dict(re.findall(r"^  (\w+) \[label=\"([^\"]*)\"", source, re.M))


def _arrows(source):
    return re.findall(r"^  (\w+) -> (\w+);", source, re.M)


def test_a_known_graph_has_its_boxes_arrows_and_labels():
    loss, x, w = _loss()
    graph = viz.draw(loss, params={"x": x, "w": w})
    boxes = _boxes(graph.source)
    ops = [label.split("\\n")[0] for name, label in boxes.items() if name.startswith("n")]
    assert ops == ["mul  #0", "tanh  #1", "sub  #2", "pow  #3", "mean  #4"]
    assert [label.split("\\n")[0] for name, label in boxes.items() if name.startswith("x")] == ["x", "w"]
    assert boxes["n4"] == "mean  #4\\n() float32" and boxes["x0"] == "x\\n(3,) float32"
    assert _arrows(graph.source) == [("x0", "n0"), ("x1", "n0"), ("n0", "n1"), ("n1", "n2"), ("n2", "n3"), ("n3", "n4")]
    assert (graph.boxes, graph.edges) == (7, 6)
    assert re.search(r'n4 \[label="[^"]*", style="filled", fillcolor="#c8e6c9"\]', graph.source)  # the result


def test_leaves_without_names_are_numbered_and_constants_are_left_out():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    graph = viz.draw((a * mg.tensor([5.0, 6.0]) + b * 2).sum())
    labels = [label.split("\\n")[0] for name, label in _boxes(graph.source).items() if name.startswith("x")]
    assert labels == ["input 0", "input 1"]
    assert graph.boxes == 6  # mul, mul, add, sum and the two leaves: no box for the constants


def test_show_grads_gives_each_leaf_its_gradient_norm():
    loss, x, w = _loss()
    loss.backward(retain_graph=True)
    boxes = _boxes(viz.draw(loss, params={"x": x, "w": w}, show_grads=True).source)
    for box, leaf in (("x0", x), ("x1", w)):
        shown = float(re.search(r"\|grad\| = ([0-9.e+-]+)", boxes[box]).group(1))
        assert shown == pytest.approx(np.linalg.norm(leaf.grad.numpy()), rel=1e-3)
    y = mg.tensor([1.0], requires_grad=True)
    assert "no grad" in viz.draw(y * 2, show_grads=True).source


def test_show_values_shows_small_tensors_only():
    small = mg.tensor([1.0, -2.0], requires_grad=True)
    big = mg.ones(viz.MAX_SHOWN + 1, requires_grad=True)
    boxes = _boxes(viz.draw((small * 3).sum() + big.sum(), show_values=True).source)
    assert "data [ 1., -2.]" in boxes["x0"] and "data [ 3., -6.]" in boxes["n0"]
    assert "data" not in boxes["x1"]


def test_names_with_quotes_are_escaped():
    p = mg.tensor([1.0], requires_grad=True)
    assert 'label="say \\"hi\\"\\n' in viz.draw(p * 2, params={'say "hi"': p}).source


# --- collapsing long chains ---------------------------------------------------------------------------------


def _chain(n, ops=("mul",)):
    x = mg.tensor([0.5, 0.25], requires_grad=True)
    z = x
    for i in range(n):
        z = z * 1.0001 if ops[i % len(ops)] == "mul" else z.tanh()
    return z, x


def test_a_10000_op_chain_is_one_box_with_its_counts():
    z, _ = _chain(10_000, ("mul", "tanh"))
    graph = viz.draw(z.sum())
    assert graph.boxes == 2 and graph.edges == 1
    assert "10001 ops: mul ×5000 tanh ×5000 sum ×1" in graph.source


def test_short_chains_and_collapse_none_draw_every_op():
    z, _ = _chain(5)
    assert viz.draw(z, collapse=8).boxes == 6  # 5 muls and the leaf
    assert viz.draw(z, collapse=5).boxes == 2  # "mul ×5" and the leaf
    z, _ = _chain(300)
    assert viz.draw(z, collapse=None).boxes == 301


def test_a_value_used_twice_ends_a_chain():
    z, x = _chain(10)
    graph = viz.draw((z * z).sum() + x.sum())  # z feeds one op twice: the chain before it stays a chain
    labels = [label.split("\\n")[0] for label in _boxes(graph.source).values()]
    assert "mul ×10" in labels and labels.count("input 0") == 1
    assert {"mul  #10", "sum  #11", "sum  #12", "add  #13"} <= set(labels)


# --- highlighting the checks' findings ----------------------------------------------------------------------


class _WrongSquare(mg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x  # should be 2 x


def _faulty(x):
    return _WrongSquare.apply(x.tanh()).sum()


def test_highlight_marks_the_node_that_check_tape_blames():
    x = mg.tensor([0.3, -0.7], dtype=mg.float64, requires_grad=True)
    report = mg.check_tape(_faulty, [x])
    assert not report.passed
    boxes = _boxes(viz.draw(_faulty(x), highlight=report).source)
    faulty = [name for name, label in boxes.items() if "FAULTY vjp" in label]
    assert len(faulty) == 1 and boxes[faulty[0]].startswith(report.first_fault.op)


def test_highlight_marks_the_ops_whose_kinks_gradcheck_crossed():
    x = mg.tensor([0.0, 1.0, -1.0], dtype=mg.float64, requires_grad=True)

    def f(x):
        return (x.relu() * 2).sum()

    report = mg.gradcheck(f, [x], raise_exception=False)
    assert report.kinks
    source = viz.draw(f(x), highlight=report).source
    assert re.search(r'label="relu  #0[^"]*kink crossed", style="filled", fillcolor="#ffd59e"', source)
    assert source.count("kink crossed") == 1


# --- rendering ----------------------------------------------------------------------------------------------


@needs_graphviz
def test_rendering_gives_a_valid_svg_with_every_box(tmp_path):
    loss, x, w = _loss()
    graph = viz.draw(loss, params={"x": x, "w": w})
    path = graph.save(tmp_path / "tape.svg")
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    nodes = root.findall(".//{http://www.w3.org/2000/svg}g[@class='node']")
    assert len(nodes) == graph.boxes
    assert graph._repr_svg_().lstrip().startswith("<?xml")
    assert (tmp_path / "tape.svg").read_bytes() == graph.pipe("svg")


@needs_graphviz
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_rendering_to_png_and_pdf(tmp_path, suffix, magic):
    loss, _, _ = _loss()
    path = viz.draw(loss).save(tmp_path / f"tape{suffix}")
    assert open(path, "rb").read(4) == magic


@needs_graphviz
def test_a_10000_op_tape_renders(tmp_path):
    z, _ = _chain(10_000, ("mul", "tanh"))
    viz.draw(z.sum()).save(tmp_path / "long.svg")
    assert ET.parse(tmp_path / "long.svg").getroot().tag.endswith("svg")


def test_without_the_graphviz_package_source_works_and_save_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now raises ImportError
    loss, _, _ = _loss()
    graph = viz.draw(loss)
    assert graph.source.startswith("digraph tape {")
    with pytest.raises(MissingDependency, match=r"graphviz Python package; .*pip install 'minigrad\[viz\]'"):
        graph.save(tmp_path / "x.svg")
    assert not (tmp_path / "x.svg").exists()
    with pytest.raises(ImportError):  # MissingDependency is an ImportError
        graph._repr_svg_()


@needs_graphviz
def test_without_the_dot_program_save_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    loss, _, _ = _loss()
    with pytest.raises(MissingDependency, match="dot program, which was not found; .*apt install graphviz"):
        viz.draw(loss).save(tmp_path / "x.svg")


# --- errors -------------------------------------------------------------------------------------------------


def test_bad_calls_raise_errors_that_say_what_to_do(tmp_path):
    loss, x, _ = _loss()
    with pytest.raises(TypeError, match="viz.draw: expected a Tensor, got ndarray"):
        viz.draw(np.ones(2))
    with pytest.raises(ValueError, match="has no recorded graph"):
        viz.draw(x)
    with pytest.raises(ValueError, match="collapse must be at least 2"):
        viz.draw(loss, collapse=1)
    with pytest.raises(TypeError, match="highlight takes a report of check_tape or gradcheck, got str"):
        viz.draw(loss, highlight="relu")
    with pytest.raises(ValueError, match="cannot tell the format of .*x.gif"):
        viz.draw(loss).save(tmp_path / "x.gif")
    with pytest.raises(ValueError, match="cannot render to 'jpeg'"):
        viz.draw(loss).pipe("jpeg")
    loss.backward()
    with pytest.raises(GraphError, match=r"freed by backward\(\); call backward\(retain_graph=True\)"):
        viz.draw(loss)


def test_drawing_a_model_names_its_parameters():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss = mg.nn.functional.cross_entropy(model(mg.randn(16, 4)), mg.randint(0, 3, (16,)))
    labels = [
        label.split("\\n")[0] for label in _boxes(viz.draw(loss, params=dict(model.named_parameters())).source).values()
    ]
    assert labels == [
        "linear  #0",
        "0.weight",
        "0.bias",
        "relu  #1",
        "linear  #2",
        "2.weight",
        "2.bias",
        "cross_entropy  #3",
    ]
