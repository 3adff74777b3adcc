"""Random sampling: normal, bernoulli, multinomial, poisson, randint_like, and the in-place initialisers.

Every draw comes from minigrad's seeded generators: the device's default one (:func:`minigrad.manual_seed`)
or the :class:`minigrad.Generator` passed as ``generator=`` -- the backend's own generator (NumPy's on the
CPU, CuPy's on the GPU), so a seeded run repeats bit for bit, with numbers that differ from PyTorch's.
The distributions are built from uniform and standard normal draws by their textbook transforms
(u ~ U[0, 1), z ~ N(0, 1)):

* normal: mean + std * z;  log-normal: exp(mean + std * z);  cauchy: median + sigma * tan(pi (u - 1/2));
* exponential: -log(1 - u) / lambd;  geometric: floor(log(1 - u) / log(1 - p)) + 1, the number of trials
  up to the first success (1, 2, ...);  bernoulli: u < p;
* multinomial with replacement: the inverse of each row's cumulative distribution; without replacement:
  the k largest keys log(u_i) / w_i (Efraimidis-Spirakis: each key is u_i ** (1 / w_i)), which draws
  categories one after the other with probability proportional to the weights that are left.

Gradients, as PyTorch's: ``normal``, ``bernoulli`` and ``poisson`` of tensors that require grad give
results that require grad, with a gradient of zero for every input (PyTorch's NormalBackward,
BernoulliBackward, PoissonBackward) -- the sample is not a differentiable function of its parameters.
For a gradient through the noise write the reparameterisation ``mean + std * randn_like(std)``.
``multinomial`` returns int64 indices, no gradient.

The in-place initialisers (``Tensor.normal_``, ``uniform_``, ``bernoulli_``, ``exponential_``,
``random_``, ``geometric_``, ``log_normal_``, ``cauchy_``) are not recorded: like ``fill_`` they write
constants into the buffer, bump the version counter (so a graph that saved the old values raises on
backward) and drop the tensor's history; a leaf that requires grad cannot be refilled while grad mode
is on (do it under ``no_grad``, as ``nn.init`` does). Their arguments are checked before anything is
drawn or written: a bad one raises and leaves the tensor as it was.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..errors import ArgumentError, DeviceError, DTypeError, ShapeError
from ..generator import Generator, rng_for
from ..primitive import primitive
from ..tensor import Tensor, _shape_args, get_default_dtype
from . import inplace
from .shape import broadcast_to

# --- results that require grad with a zero gradient ----------------------------------------------


def _zeros_for(g, x):
    """Zeros of ``x``'s shape in ``g``'s dtype, on arrays or (create_graph) tensors."""
    if isinstance(g, Tensor):
        return Tensor._wrap(g.xp.zeros(tuple(x.shape), dtype=g.dtype))
    return backend.xp_of(g).zeros(tuple(x.shape), dtype=g.dtype)


def _sampled(name: str):
    """A primitive ``name(*parameters, value=)`` returning the drawn ``value``, with zero gradients.

    Its output requires grad when a parameter does, as PyTorch's sampler outputs do, and each
    parameter's gradient is zero: the value does not depend on the parameters through the forward.
    """

    def forward(*parameters, value):
        return value

    forward.__name__ = forward.__qualname__ = name
    forward.__module__ = __name__
    op = primitive(forward, name=name)
    op.defvjp_variadic(lambda i, g, ans, *args, value: _zeros_for(g, args[i]))
    return op


_normal = _sampled("normal")
_bernoulli = _sampled("bernoulli")
_poisson = _sampled("poisson")


def _floating(op: str, t: Tensor, what: str = "input") -> None:
    if t.dtype.kind != "f":
        raise DTypeError(f"{op}: needs a floating-point {what}, got dtype {t.dtype}")


def _draw_dtype(dtype):
    """The dtype a backend generator draws for ``dtype``: float32 or float64 (float16 and others: float64)."""
    return dtype if np.dtype(dtype) in (np.float32, np.float64) else np.float64


def _uniform(rng, shape, dtype=np.float64):
    return rng.random(tuple(shape), dtype=_draw_dtype(dtype))


def _standard_normal(rng, shape, dtype=np.float64):
    return rng.standard_normal(tuple(shape), dtype=_draw_dtype(dtype))


# --- normal --------------------------------------------------------------------------------------------


def normal(mean, std=1.0, size=None, *, generator: Generator | None = None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Samples of N(mean, std**2), ``torch.normal``, with PyTorch's four forms.

    * ``normal(mean: Tensor, std: Tensor)``: one sample per element of the broadcast of mean and std
      (dtype: mean's, as PyTorch's -- not the promotion of the two);
    * ``normal(mean: Tensor, std: float = 1.0)`` and ``normal(mean: float, std: Tensor)``: the tensor's
      shape and dtype;
    * ``normal(mean: float, std: float, size, *, dtype, device, requires_grad)``: a new tensor of
      ``size`` (the default dtype unless ``dtype`` is given).

    The sample is mean + std * z, z ~ N(0, 1) from ``generator`` or the device's default. As in
    PyTorch, the result requires grad when mean or std does, and their gradients are zero (the draw
    is not reparameterised; write ``mean + std * randn_like(std)`` for that). Raises ArgumentError
    when an element of std is negative or NaN, ShapeError when mean and std do not broadcast,
    DTypeError for an integer tensor, TypeError for a missing ``size`` (or one given with tensors).
    """
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal: with a float mean and std, the size argument is required")
        if not float(std) >= 0:
            raise ArgumentError(f"normal: expects std >= 0.0, but found std {std}")
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        if dtype.kind != "f":
            raise DTypeError(f"normal: needs a floating-point dtype, got {dtype}")
        device = backend.normalize_device(device)
        shape = _sizes("normal", size)
        z = _standard_normal(rng_for("normal", generator, device), shape, dtype)
        # z * std of a 0-d array is a NumPy scalar: back to an array (a Tensor holds arrays)
        out = Tensor._wrap(backend.xp_of(z).asarray((float(mean) + float(std) * z).astype(dtype, copy=False)))
        return out.requires_grad_() if requires_grad else out
    if size is not None or dtype is not None or device is not None or requires_grad:
        raise TypeError(
            "normal: size, dtype, device and requires_grad go only with a float mean and std; "
            "with a tensor mean or std the result takes their shape, dtype and device"
        )
    for t in tensors:
        _floating("normal", t, "mean and std")
    device = tensors[0].device
    if any(t.device != device for t in tensors):
        raise DeviceError(f"normal: mean and std must be on one device, got {', '.join(t.device for t in tensors)}")
    xp = tensors[0].xp
    try:
        shape = np.broadcast_shapes(*(tuple(t.shape) for t in (mean, std) if isinstance(t, Tensor)))
    except ValueError:
        raise ShapeError(f"normal: mean of shape {tuple(mean.shape)} and std of shape {tuple(std.shape)} "
                         "do not broadcast") from None  # fmt: skip
    dtype = tensors[0].dtype  # mean's dtype when it is a tensor, else std's, as PyTorch (no promotion)
    if isinstance(std, Tensor):
        if std.numel() and not bool(xp.all(std.array >= 0)):
            raise ArgumentError("normal: expects all elements of std >= 0.0 (std has a negative or NaN element)")
    elif not float(std) >= 0:
        raise ArgumentError(f"normal: expects std >= 0.0, but found std {std}")
    z = _standard_normal(rng_for("normal", generator, device), shape, dtype)
    m = mean.array if isinstance(mean, Tensor) else mean
    s = std.array if isinstance(std, Tensor) else std
    value = xp.asarray(m + s * z).astype(dtype, copy=False)
    return _normal(*tensors, value=value)


def _sizes(op: str, size) -> tuple:
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{op}: size must be a tuple of ints, got {size!r}")
    shape = _shape_args(tuple(size))
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise ShapeError(f"{op}: size must be non-negative integers, got {shape}")
    return tuple(int(s) for s in shape)


# --- bernoulli, poisson ---------------------------------------------------------------------------


def _probability(op: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise DTypeError(f"{op}: p must be a float in [0, 1], got {p!r}")
    if not 0 <= p <= 1:
        raise ArgumentError(f"{op}: expects p to be in [0, 1], but got p={p}")
    return float(p)


def _check_probabilities(op: str, probs: Tensor) -> None:
    if probs.numel() and not bool(probs.xp.all((probs.array >= 0) & (probs.array <= 1))):
        raise ArgumentError(
            f"{op}: expects all probabilities in [0, 1], got values outside it (or NaN) in a tensor of "
            f"shape {probs.shape}"
        )


def bernoulli(input: Tensor, p=None, *, generator: Generator | None = None) -> Tensor:
    """Samples of Bernoulli(p), 1 with probability p and 0 otherwise, ``torch.bernoulli``.

    ``bernoulli(input)``: one draw per element with p = that element (a floating-point tensor with
    values in [0, 1]); ``bernoulli(input, p)``: the float p for every element of ``input``'s shape.
    The result has ``input``'s shape, dtype and device; it requires grad when ``input`` does, with a
    zero gradient, as PyTorch's. Raises ArgumentError for a probability outside [0, 1] (or NaN),
    DTypeError for integer probabilities.
    """
    rng = rng_for("bernoulli", generator, input.device)
    if p is None:
        _floating("bernoulli", input, "tensor of probabilities")
        _check_probabilities("bernoulli", input)
        value = (_uniform(rng, input.shape) < input.array).astype(input.dtype)
    else:
        p = _probability("bernoulli", p)
        value = (_uniform(rng, input.shape) < p).astype(input.dtype)
    if input.dtype.kind != "f":
        return Tensor._wrap(value)
    return _bernoulli(input, value=value)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Samples of Poisson(rate) for each element of ``input`` (the rates), ``torch.poisson``.

    P(k) = rate**k exp(-rate) / k!, k = 0, 1, ...; the counts come in ``input``'s floating-point dtype.
    The result requires grad when ``input`` does, with a zero gradient, as PyTorch's. Raises
    ArgumentError for a negative, NaN or infinite rate (PyTorch returns garbage for an infinite one),
    DTypeError for an integer tensor.
    """
    _floating("poisson", input, "tensor of rates")
    rates = input.array
    if input.numel() and not bool(input.xp.all(input.xp.isfinite(rates) & (rates >= 0))):
        raise ArgumentError("poisson: invalid Poisson rate, expected every rate to be finite and non-negative")
    rng = rng_for("poisson", generator, input.device)
    try:
        counts = rng.poisson(rates.astype(np.float64), size=tuple(input.shape))
    except ValueError as exc:  # NumPy: "lam value too large"
        raise ArgumentError(f"poisson: {exc} (the largest rate is {float(rates.max())})") from exc
    return _poisson(input, value=counts.astype(input.dtype))


# --- multinomial ------------------------------------------------------------------------------------


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:  # fmt: skip
    """Category indices drawn with probabilities proportional to the rows of ``input``, ``torch.multinomial``.

    ``input`` is 1-d (one distribution over its n categories) or 2-d (one per row); the weights need
    not sum to 1. Returns int64 indices of shape (num_samples,) or (rows, num_samples). With
    ``replacement`` every draw is independent (the inverse of the row's cumulative distribution);
    without, each category is drawn at most once, one after the other with probability proportional
    to the weights left (the k largest keys log(u) / w). A category of weight 0 is never drawn with
    replacement; without replacement it comes only after every positive one, to fill num_samples.
    No gradient. Raises, as PyTorch: ShapeError for input that is not 1-d or 2-d; DTypeError for
    integer weights or a non-int num_samples; ArgumentError for a negative, NaN or infinite weight,
    a row summing to 0, no categories (n = 0), num_samples <= 0, or num_samples > n without replacement.
    """
    op = "multinomial"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (1, 2):
        raise ShapeError(f"{op}: prob_dist must be 1 or 2 dim, got shape {input.shape}")
    _floating(op, input, "tensor of weights")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise DTypeError(f"{op}: num_samples must be an int, got {num_samples!r}")
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise ArgumentError(f"{op}: cannot sample num_samples = {num_samples} <= 0 samples")
    n = input.shape[-1]
    if n == 0:  # no category to draw (PyTorch 2.13 fails in aminmax on the empty row)
        raise ArgumentError(f"{op}: cannot sample from 0 categories (the input of shape {input.shape} is empty)")
    if not replacement and num_samples > n:
        raise ArgumentError(f"{op}: cannot sample num_samples = {num_samples} > {n} categories without replacement")
    xp = input.xp
    w = input.array.astype(np.float64).reshape(-1, n)
    if w.size and not bool(xp.all(xp.isfinite(w) & (w >= 0))):
        raise ArgumentError(f"{op}: probability tensor contains either inf, nan or element < 0")
    if w.shape[0] and not bool(xp.all(w.sum(axis=1) > 0)):
        raise ArgumentError(f"{op}: invalid multinomial distribution (a row's sum of probabilities is <= 0)")
    rng = rng_for(op, generator, input.device)
    rows = w.shape[0]
    if replacement:
        cdf = xp.cumsum(w, axis=1)
        cdf = cdf / cdf[:, -1:]  # the last entry is exactly 1 > u
        u = _uniform(rng, (rows, num_samples))
        out = xp.empty((rows, num_samples), dtype=np.int64)
        step = max(1, (1 << 22) // max(1, rows * n))  # draws compared at once, to bound the memory
        for start in range(0, num_samples, step):
            chunk = u[:, start : start + step, None]
            out[:, start : start + step] = (cdf[:, None, :] <= chunk).sum(axis=2)  # the category whose
            # interval [cdf_{j-1}, cdf_j) holds u; an interval of weight 0 is empty
    else:
        u = _uniform(rng, (rows, n))
        w = w / w.max(axis=1, keepdims=True)  # keys stay finite for tiny weights
        with np.errstate(divide="ignore"):
            keys = xp.where(w > 0, xp.log(u) / xp.where(w > 0, w, 1), -np.inf)
        order = xp.argsort(-keys, axis=1, kind="stable")
        out = order[:, :num_samples].astype(np.int64)
    return Tensor._wrap(out.reshape(input.shape[:-1] + (num_samples,)))


# --- randint_like -------------------------------------------------------------------------------------


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, generator: Generator | None = None,
                 dtype=None, device=None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Integers uniform on [low, high) with the shape (and, unless given, dtype and device) of ``input``.

    As ``torch.randint_like``: ``randint_like(input, high)`` or ``randint_like(input, low, high)``; the
    values come in ``input``'s dtype (a float tensor gets float integers). Raises ArgumentError when
    low >= high.
    """
    if high is None:
        low, high = 0, low
    if not low < high:
        raise ArgumentError(f"randint_like: expects low < high, but got low={low} >= high={high}")
    dtype = input.dtype if dtype is None else np.dtype(dtype)
    device = input.device if device is None else backend.normalize_device(device)
    rng = rng_for("randint_like", generator, device)
    out = Tensor._wrap(rng.integers(int(low), int(high), size=tuple(input.shape)).astype(dtype))
    return out.requires_grad_() if requires_grad else out


# --- the in-place initialisers ------------------------------------------------------------------------


def _fill(op: str, self: Tensor, generator, draw) -> Tensor:
    """Write ``draw(rng, shape, dtype)`` into self's buffer, not recorded (see the module docstring)."""
    rng = rng_for(op, generator, self.device)
    inplace._forbid_leaf(op, self)  # before drawing: a refused fill leaves the stream alone too

    def write(data):
        data[...] = draw(rng, data.shape, data.dtype)

    return inplace._overwrite(op, self, write)


def _floating_self(op: str, self: Tensor) -> None:
    if self.dtype.kind != "f":
        raise DTypeError(f"{op}: needs a floating-point tensor, got dtype {self.dtype}; cast with .float()")


def _number(op: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DTypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


def normal_(input: Tensor, mean: float = 0, std: float = 1, *, generator: Generator | None = None) -> Tensor:
    """Fill ``input`` with samples of N(mean, std**2), in place, ``Tensor.normal_``: mean + std * z.

    Floating-point tensors only (DTypeError otherwise); raises ArgumentError for std < 0. Not recorded:
    the version counter is bumped and the history dropped, as :func:`minigrad.ops.inplace.fill_`.
    """
    _floating_self("normal_", input)
    mean, std = _number("normal_", "mean", mean), _number("normal_", "std", std)
    if not std >= 0:
        raise ArgumentError(f"normal_: expects std >= 0.0, but found std {std}")
    return _fill("normal_", input, generator, lambda rng, shape, dt: mean + std * _standard_normal(rng, shape, dt))


def _from_keyword(op: str, from_, kwargs: dict, default):
    """PyTorch's keyword ``from`` (a reserved word in Python, so passed as ``**{"from": a}``) or ``from_``."""
    if "from" in kwargs:
        if from_ is not default:
            raise TypeError(f"{op}: give from or from_, not both")
        from_ = kwargs.pop("from")
    if kwargs:
        raise TypeError(f"{op}: unexpected keyword argument {next(iter(kwargs))!r}")
    return from_


def uniform_(input: Tensor, from_: float = 0, to: float = 1, *, generator: Generator | None = None,
             **kwargs) -> Tensor:  # fmt: skip
    """Fill ``input`` with samples of U[from, to), in place, ``Tensor.uniform_(from=0, to=1)``: from + (to - from) u.

    PyTorch's keyword is ``from``, which Python reserves: pass it positionally, as ``**{"from": a}``
    (PyTorch's way), or as ``from_=a``. Floating-point tensors only; raises ArgumentError when
    from > to (from == to fills with from). Not recorded (see :func:`normal_`).
    """
    from_ = _number("uniform_", "from", _from_keyword("uniform_", from_, kwargs, 0))
    to = _number("uniform_", "to", to)
    _floating_self("uniform_", input)
    if not from_ <= to:
        raise ArgumentError(f"uniform_: expects to return a [from, to) range, but found from={from_} > to={to}")
    xp = input.xp

    def draw(rng, shape, dt):
        value = (from_ + (to - from_) * _uniform(rng, shape)).astype(dt)
        if from_ < to:  # rounding to the tensor's dtype can reach ``to`` itself: keep the range half-open
            below = xp.nextafter(xp.asarray(to, dtype=dt), xp.asarray(-np.inf, dtype=dt))
            value = xp.minimum(value, xp.maximum(below, xp.asarray(from_, dtype=dt)))
        return value

    return _fill("uniform_", input, generator, draw)


def bernoulli_(input: Tensor, p=0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill ``input`` with samples of Bernoulli(p), 1 with probability p else 0, in place, ``Tensor.bernoulli_``.

    ``p`` is a float or a tensor of probabilities broadcastable to ``input``'s shape, in [0, 1]
    (ArgumentError otherwise, ShapeError for a tensor that does not broadcast). Any dtype, bool
    included. Not recorded (see :func:`normal_`).
    """
    if isinstance(p, Tensor):
        if p.device != input.device:
            raise DeviceError(f"bernoulli_: p on {p.device} cannot fill a tensor on {input.device}")
        _floating("bernoulli_", p, "tensor of probabilities")
        try:
            probs = broadcast_to(p.detach(), input.shape).array
        except ShapeError:
            raise ShapeError(f"bernoulli_: p of shape {p.shape} does not broadcast to the tensor's shape "
                             f"{input.shape}") from None  # fmt: skip
        _check_probabilities("bernoulli_", p)
    else:
        probs = _probability("bernoulli_", p)
    return _fill("bernoulli_", input, generator, lambda rng, shape, dt: _uniform(rng, shape) < probs)


def exponential_(input: Tensor, lambd: float = 1, *, generator: Generator | None = None) -> Tensor:
    """Fill ``input`` with samples of Exp(lambd), density lambd exp(-lambd x), in place, ``Tensor.exponential_``.

    Drawn as -log(1 - u) / lambd. Floating-point tensors only; raises ArgumentError for lambd <= 0.
    Not recorded (see :func:`normal_`).
    """
    lambd = _number("exponential_", "lambd", lambd)
    _floating_self("exponential_", input)
    if not lambd > 0:
        raise ArgumentError(f"exponential_: expects lambda > 0.0, but found lambda={lambd}")
    xp = input.xp
    return _fill("exponential_", input, generator, lambda rng, shape, dt: -xp.log1p(-_uniform(rng, shape)) / lambd)


def geometric_(input: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    """Fill ``input`` with samples of Geometric(p), in place, ``Tensor.geometric_``: P(k) = (1 - p)**(k - 1) p.

    k = 1, 2, ... counts the Bernoulli(p) trials up to and including the first success, drawn as
    floor(log(1 - u) / log(1 - p)) + 1. Integer or floating-point tensors (not bool); raises
    ArgumentError for p outside (0, 1). Not recorded (see :func:`normal_`).
    """
    p = _number("geometric_", "p", p)
    if input.dtype.kind not in "iuf":
        raise DTypeError(f"geometric_: needs an integer or floating-point tensor, got dtype {input.dtype}")
    if not 0 < p < 1:
        raise ArgumentError(f"geometric_: expects p to be in (0, 1), but got p={p}")
    xp = input.xp
    scale = math.log1p(-p)
    return _fill(
        "geometric_",
        input,
        generator,
        lambda rng, shape, dt: xp.floor(xp.log1p(-_uniform(rng, shape)) / scale) + 1,
    )


def log_normal_(input: Tensor, mean: float = 1, std: float = 2, *, generator: Generator | None = None) -> Tensor:
    """Fill ``input`` with samples of a log-normal, exp(N(mean, std**2)), in place, ``Tensor.log_normal_``.

    ``mean`` and ``std`` are those of the underlying normal (the log of the samples). Floating-point
    tensors only; raises ArgumentError for std <= 0. Not recorded (see :func:`normal_`).
    """
    mean, std = _number("log_normal_", "mean", mean), _number("log_normal_", "std", std)
    _floating_self("log_normal_", input)
    if not std > 0:
        raise ArgumentError(f"log_normal_: expects std > 0.0, but found std={std}")
    xp = input.xp
    return _fill(
        "log_normal_", input, generator, lambda rng, shape, dt: xp.exp(mean + std * _standard_normal(rng, shape))
    )


def cauchy_(input: Tensor, median: float = 0, sigma: float = 1, *, generator: Generator | None = None) -> Tensor:
    """Fill ``input`` with samples of Cauchy(median, sigma), in place, ``Tensor.cauchy_``.

    Density 1 / (pi sigma (1 + ((x - median) / sigma)**2)), drawn as median + sigma tan(pi (u - 1/2)).
    Floating-point tensors only; raises ArgumentError for sigma <= 0. Not recorded (see :func:`normal_`).
    """
    median, sigma = _number("cauchy_", "median", median), _number("cauchy_", "sigma", sigma)
    _floating_self("cauchy_", input)
    if not sigma > 0:
        raise ArgumentError(f"cauchy_: expects sigma > 0.0, but found sigma={sigma}")
    xp = input.xp
    return _fill(
        "cauchy_",
        input,
        generator,
        lambda rng, shape, dt: median + sigma * xp.tan(np.pi * (_uniform(rng, shape) - 0.5)),
    )


def _bounds(dtype) -> tuple[int, int]:
    """The integers a tensor of ``dtype`` holds exactly: its range, or +-2**digits for floats."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return 0, 1
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return int(info.min), int(min(info.max, 2**63 - 1))
    digits = np.finfo(dtype).nmant + 1
    return -(2**digits), 2**digits


def random_(input: Tensor, *args, generator: Generator | None = None, **kwargs) -> Tensor:
    """Fill ``input`` with integers drawn uniformly, in place, ``Tensor.random_(from=0, to=None)``.

    ``random_()``: from [0, the largest the dtype holds] (2**24 for float32, 2**53 for float64, as
    PyTorch); ``random_(to)``: from [0, to); ``random_(from, to)``: from [from, to); ``to=None`` with
    a ``from``: from [from, the dtype's largest]. PyTorch's keyword ``from`` is reserved in Python:
    pass it positionally, as ``**{"from": a}`` or as ``from_=a``. Any dtype. Raises ArgumentError when
    from >= to or a bound is outside the dtype's range (uint8 takes no negative from), TypeError for
    more than two positional arguments. Not recorded (see :func:`normal_`).
    """
    op = "random_"
    if "from_" in kwargs:
        kwargs["from"] = kwargs.pop("from_")
    if len(args) > 2:
        raise TypeError(f"{op}: takes at most two positional arguments (from, to), got {len(args)}")
    if len(args) == 2:
        from_, to = args
    elif len(args) == 1:
        from_, to = (args[0], None) if "to" in kwargs else (0, args[0])
    else:
        from_, to = 0, None
    if "to" in kwargs:
        to = kwargs.pop("to")
    from_ = _from_keyword(op, from_, kwargs, from_)
    for name, value in (("from", from_), ("to", to)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
            raise DTypeError(f"{op}: {name} must be an int, got {value!r}")
    low, high = _bounds(input.dtype)
    from_ = int(from_)
    if not low <= from_ <= high:
        raise ArgumentError(f"{op}: from = {from_} is out of bounds for {input.dtype} [{low}, {high}]")
    if to is None:
        last = high
    else:
        to = int(to)
        if not from_ < to:
            raise ArgumentError(f"{op}: expects 'from' to be less than 'to', but got from={from_} >= to={to}")
        last = to - 1
        if last > high:
            raise ArgumentError(f"{op}: to - 1 = {last} is out of bounds for {input.dtype} [{low}, {high}]")
    return _fill(op, input, generator, lambda rng, shape, dt: backend.integers_inclusive(rng, from_, last, shape))


__all__ = ["normal", "bernoulli", "multinomial", "poisson", "randint_like"]
__all__ += ["normal_", "uniform_", "bernoulli_", "exponential_", "random_", "geometric_", "log_normal_", "cauchy_"]
