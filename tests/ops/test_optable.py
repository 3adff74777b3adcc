"""The generic op tests: every record of the op table (optable.py) through the same checks.

For each record, on hypothesis-drawn cases in the op's domain:

- forward: every spelling against the NumPy reference in float32 and float64
  (shape, dtype, device, values; bit for bit for ops that move elements);
- gradients: minigrad.gradcheck in float64 on the full Jacobian;
- second order: create_graph=True through the op (check_second_order);
- kinks: a branch signature is declared and recorded iff the op is non-smooth;
- dtypes: float32 inputs get float32 gradients, plain and create_graph;
- saves: changing in place an input the primitive does not declare in
  ``saves`` (or its output, when it does not save that) between forward and
  backward leaves the gradient as it was, so ``saves`` lists every value the
  vjps read;
- coverage: every differentiable primitive of minigrad.ops has a record (or
  an exemption with its reason), and every record names a live primitive.
"""

from __future__ import annotations

import importlib
import types

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given, settings
from hypothesis import strategies as st
from ophelpers import DTYPES, check_second_order, tolerance
from optable import BY_NAME, EXEMPT, OP_MODULES, RECORDS, OpRecord, coverage_problems, defined_primitives

import minigrad
from minigrad.primitive import primitive

NAMES = sorted(BY_NAME)
EXTRA_EXAMPLES = 6  # for the checks of declarations (kinks, dtypes, saves): cheap to state, costly to repeat


def _run_cases(record, test, examples=None, cases=None):
    """Run ``test(case, data)`` on hypothesis-drawn cases of ``record`` (the profile's budget unless capped)."""
    budget = settings().max_examples if examples is None else min(examples, settings().max_examples)

    @settings(max_examples=budget)
    @given(case=record.case if cases is None else cases, data=st.data())
    def run(case, data):
        test(case, data)

    run()


def _tensors(case, dtype=np.float64, device="cpu", requires_grad=True):
    """The case's arrays as tensors: the differentiable ones in ``dtype``, the constants as they are."""
    return [
        minigrad.tensor(a, device=device)
        if i in case.constant
        else minigrad.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad, device=device)
        for i, a in enumerate(case.arrays)
    ]


def _of_differentiable(record, case, tensors):
    """``fn(*differentiable tensors)``: the record's call with the constant tensors filled in."""
    slots = case.differentiable

    def fn(*ts, call=record.call):
        args = list(tensors)
        for i, t in zip(slots, ts):
            args[i] = t
        return call(*args, **case.params)

    return fn


def _host(t):
    return t.to("cpu").numpy()


# --- forward ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_numpy(name, dtype, device):
    record = BY_NAME[name]

    def check(case, data):
        inputs = [a if i in case.constant else np.asarray(a, dtype=dtype) for i, a in enumerate(case.arrays)]
        want = np.asarray(record.reference(*inputs, **case.params))
        if record.keeps_dtype:  # some references compute in float64
            want = want.astype(dtype)
        tensors = [minigrad.tensor(a, device=device) for a in inputs]
        for spelling, call in record.calls().items():
            out = call(*tensors, **case.params)
            assert out.shape == want.shape, spelling
            assert out.dtype == (dtype if record.keeps_dtype else want.dtype), spelling
            assert out.device == device, spelling
            if record.exact:
                np.testing.assert_array_equal(_host(out), want, err_msg=spelling)
            else:
                np.testing.assert_allclose(_host(out), want, **tolerance(dtype), err_msg=spelling)

    _run_cases(record, check, record.forward_examples, record.forward_case)


# --- gradients --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck(name, device):
    record = BY_NAME[name]

    def check(case, data):
        spelling = data.draw(st.sampled_from(sorted(record.calls())), label="spelling")
        constants = _tensors(case, device=device, requires_grad=False)
        fn = _of_differentiable(record, case, constants)
        call = record.calls()[spelling]
        diff = [case.arrays[i] for i in case.differentiable]
        check_gradients(lambda *ts: fn(*ts, call=call), *diff, device=device, **record.gradcheck)

    _run_cases(record, check, record.examples)


@pytest.mark.parametrize("name", [n for n in NAMES if BY_NAME[n].second_order])
def test_second_order(name):
    record = BY_NAME[name]

    def check(case, data):
        fn = _of_differentiable(record, case, _tensors(case, requires_grad=False))
        check_second_order(fn, *[case.arrays[i] for i in case.differentiable])

    _run_cases(record, check, record.examples)


# --- kinks ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_a_signature_is_declared_and_recorded_iff_the_op_is_non_smooth(name):
    record = BY_NAME[name]
    assert (record.primitive.signature is not None) == record.kinked, (
        f"{record.primitive.name}: declares {'no' if record.kinked else 'a'} branch signature, "
        f"but the table says it is {'non-smooth' if record.kinked else 'smooth'}"
    )

    def check(case, data):
        tensors = _tensors(case, requires_grad=False)
        with minigrad.record_signatures() as rec:
            record.call(*tensors, **case.params)
        if not record.kinked:
            assert rec.log == []
            return
        assert len(rec.log) == 1
        op_name, position, signature = rec.log[0]
        assert op_name == record.primitive.name
        assert position == 0
        if record.signature_shape is not None:
            assert np.shape(signature) == tuple(record.signature_shape(case))

    _run_cases(record, check, EXTRA_EXAMPLES)


# --- dtypes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_float32_gradients_stay_float32(name):
    """Plain backward, grad() and create_graph=True all give float32 gradients for float32 inputs."""
    record = BY_NAME[name]

    def check(case, data):
        tensors = _tensors(case, np.float32)
        xs = [tensors[i] for i in case.differentiable]
        fn = _of_differentiable(record, case, tensors)
        out = fn(*xs)
        if record.keeps_dtype:
            assert out.dtype == np.float32
        (out * out).sum().backward()
        assert all(x.grad.dtype == np.float32 for x in xs)
        gs = minigrad.grad((fn(*xs) ** 2).sum(), xs, create_graph=True)
        assert [g.dtype for g in gs] == [np.float32] * len(xs)
        np.testing.assert_allclose(gs[0].numpy(), xs[0].grad.numpy(), rtol=1e-6, atol=1e-6)
        if record.second_order:
            hs = minigrad.grad(sum((g * g).sum() for g in gs), xs, allow_unused=True)
            assert all(h is None or h.dtype == np.float32 for h in hs)

    _run_cases(record, check, EXTRA_EXAMPLES)


# --- saves ---------------------------------------------------------------------------------------------


def _other_values(t, rng):
    """Values of ``t``'s shape and dtype, as an array of its device, different from its own."""
    a = _host(t)
    if a.dtype.kind in "iub":  # class targets: another valid class everywhere
        new = np.where(a == 0, 1, 0).astype(a.dtype)
    else:
        new = rng.uniform(-3.0, 3.0, a.shape).astype(a.dtype)
    return minigrad.backend.xp_for(t.device).asarray(new)


def _overwrite(t, rng):
    """Change a tensor's values in place without bumping its version: what a vjp must not depend on
    unless the primitive declares it in ``saves`` (then a recorded change is caught by the version check)."""
    t.array[...] = _other_values(t, rng)


def _shares_memory(a, b) -> bool:
    return bool(np.shares_memory(a, b)) if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) else a is b


def _gradient(record, case, g, create_graph, mutate=None):
    """The gradients of the differentiable inputs for cotangent ``g``, after ``mutate(tensors, out)``."""
    tensors = _tensors(case)
    xs = [tensors[i] for i in case.differentiable]
    out = record.call(*tensors, **case.params)
    if mutate is not None:
        mutate(tensors, out)
    gs = minigrad.grad(out, xs, minigrad.tensor(g), create_graph=create_graph, allow_unused=True)
    return [None if gi is None else gi.numpy().copy() for gi in gs]


def _unchanged(got, want, message):
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b, err_msg=message)


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("name", NAMES)
def test_saves_lists_every_value_the_vjps_read(name, create_graph):
    """Overwrite, after the forward and without a version bump, each input of the primitive that is not in
    ``saves`` (and the output, unless it is saved): the gradient must not change.

    A view op's output shares its input's memory (reshape, permute, broadcast_to, basic getitem): the
    output is not overwritten on its own there (it *is* the input's memory, changed with it, and a
    broadcast view is read-only), and an input the output aliases is left alone when the output is saved.
    """
    record = BY_NAME[name]
    prim = record.primitive

    def check(case, data):
        rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
        g = rng.standard_normal(record.call(*_tensors(case), **case.params).shape)
        want = _gradient(record, case, g, create_graph)
        for j in range(len(case.arrays)):
            position = record.position(j)
            if position is None or position in prim.saves:
                continue  # saved (or not this primitive's input: see the next test)

            def change_input(tensors, out, j=j):
                if not (prim.saves_output and _shares_memory(tensors[j].array, out.array)):
                    _overwrite(tensors[j], rng)

            got = _gradient(record, case, g, create_graph, change_input)
            _unchanged(got, want, f"{prim.name}: its vjps read input {position}, which it does not save")
        if not prim.saves_output:

            def change_output(tensors, out):
                if out.array.flags.writeable and not any(_shares_memory(t.array, out.array) for t in tensors):
                    _overwrite(out, rng)

            got = _gradient(record, case, g, create_graph, change_output)
            _unchanged(got, want, f"{prim.name}: its vjps read the output, which it does not save")

    _run_cases(record, check, EXTRA_EXAMPLES)


@pytest.mark.parametrize("name", NAMES)
def test_an_in_place_change_after_the_forward_raises_or_changes_nothing(name):
    """Every input, changed in place with a version bump (``copy_`` under no_grad) between
    forward and backward: backward raises the in-place error, or gives the gradient of the unchanged run --
    never a silently different one. This sees what ``saves`` cannot: a saved value that aliases an input
    of the call through another primitive (conv2d's columns are a view of its input without padding)."""
    record = BY_NAME[name]

    def check(case, data):
        rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
        g = rng.standard_normal(record.call(*_tensors(case), **case.params).shape)
        want = _gradient(record, case, g, False)
        for j in range(len(case.arrays)):

            def change(tensors, out, j=j):
                t = tensors[j]
                if t.array.flags.writeable:
                    with minigrad.no_grad():
                        t.copy_(minigrad.tensor(_other_values(t, rng), device=t.device))

            try:
                got = _gradient(record, case, g, False, change)
            except minigrad.GraphError as exc:
                assert "modified in place" in str(exc)
                continue
            _unchanged(got, want, f"{record.primitive.name}: changing {j} in place changed the gradient silently")

    _run_cases(record, check, EXTRA_EXAMPLES)


# --- coverage ----------------------------------------------------------------------------------------


def _op_modules():
    return [importlib.import_module(f"minigrad.ops.{name}") for name in OP_MODULES]


def test_every_op_module_is_searched():
    import pkgutil

    import minigrad.ops

    assert sorted(m.name for m in pkgutil.iter_modules(minigrad.ops.__path__)) == sorted(OP_MODULES)


def test_the_table_and_the_primitives_defined_agree():
    """Every differentiable primitive of minigrad.ops has a record or an exemption, and the reverse."""
    prims = defined_primitives(_op_modules())
    assert {"add", "sum", "reshape", "matmul", "linear", "conv2d", "max_pool2d", "cross_entropy"} <= set(prims)
    assert coverage_problems(prims, RECORDS, EXEMPT) == []
    assert all(EXEMPT.values()), "every exemption gives its reason"


def test_records_have_distinct_names():
    assert len(BY_NAME) == len(RECORDS) == len({r.name for r in RECORDS})


def test_the_coverage_check_catches_a_missing_record_and_a_stale_one():
    module = types.ModuleType("fake_ops")

    @primitive
    def double(x):
        return x * 2

    double.defvjp(lambda g, ans, x: g * 2)

    @primitive
    def no_vjp(x):
        return x

    for op in (double, no_vjp):
        op.__module__ = module.__name__
        setattr(module, op.name, op)
    module.positive = primitive(lambda x: x > 0, name="positive", differentiable=False)
    module.positive.__module__ = module.__name__
    module.imported = BY_NAME["exp"].primitive  # defined elsewhere: not this module's
    prims = defined_primitives([module])
    assert sorted(prims) == ["double", "no_vjp"]
    problems = coverage_problems(prims, [BY_NAME["exp"]], {"no_vjp": "a reason", "gone": "a reason"})
    assert any("without a vjp: ['no_vjp']" in p for p in problems)
    assert any("without a record" in p and "double" in p for p in problems)
    assert any("no longer exist: ['exp']" in p for p in problems)
    assert any("exemptions" in p and "gone" in p for p in problems)
    record = OpRecord(double, double, lambda x: 2 * x, st.nothing())
    assert coverage_problems(prims, [record], {"no_vjp": "a reason"}) == [
        "differentiable primitives without a vjp: ['no_vjp']"
    ]
