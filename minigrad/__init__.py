"""minigrad: a small automatic-differentiation engine on NumPy (CPU) and CuPy (GPU).

The public names, in PyTorch's spelling where PyTorch has one.

Importing minigrad changes nothing outside it. :func:`tune_malloc` fixes
glibc's malloc thresholds for the whole process (freed arrays are then kept
for the next training step instead of being page-faulted in again), for a
program that owns its process; ``MINIGRAD_TUNE_MALLOC=1`` makes the import
call it, ``MINIGRAD_TUNE_MALLOC=0`` turns it off everywhere (see
``minigrad/_malloc.py``).
"""

from . import _malloc, checks, cuda, data, linalg, nn, optim, viz
from ._malloc import tune_malloc
from .autograd import (
    backward,
    detect_anomaly,
    enable_grad,
    format_tape,
    grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    print_tape,
    record_signatures,
    set_grad_enabled,
)
from .backend import cuda_is_available, fork_rng, get_rng_state, set_rng_state
from .creation import (
    arange,
    empty,
    eye,
    full,
    full_like,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from .errors import (
    AnomalyError,
    ArgumentError,
    DeviceError,
    DTypeError,
    GraphError,
    IndexOutOfRange,
    MinigradError,
    ShapeError,
)
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, GradcheckReport, gradcheck, gradgradcheck
from .ops.construct import flip, fliplr, flipud, meshgrid, roll, t, tril, triu, unflatten
from .ops.contraction import einsum
from .ops.elementwise import (
    abs,
    add,
    astype,
    clamp,
    clip,
    div,
    eq,
    exp,
    floor_divide,
    ge,
    gt,
    le,
    leaky_relu,
    log,
    lt,
    masked_fill,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    sigmoid,
    sign,
    sqrt,
    sub,
    tanh,
    true_divide,
    where,
)
from .ops.linalg import (
    bmm,
    diag,
    diag_embed,
    diagonal,
    ger,
    matmul,
    mm,
    norm,
    outer,
    trace,
)
from .ops.pointwise import (
    acos,
    acosh,
    allclose,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    ceil,
    copysign,
    cos,
    cosh,
    erf,
    exp2,
    expm1,
    floor,
    fmod,
    hypot,
    isclose,
    isfinite,
    isinf,
    isnan,
    lerp,
    log1p,
    log2,
    log10,
    logaddexp,
    remainder,
    round,
    rsqrt,
    sin,
    sinh,
    tan,
    trunc,
)
from .ops.reduction import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    softmax,
    std,
    sum,
    var,
)
from .ops.scan import cumsum
from .ops.shape import (
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    expand,
    flatten,
    pad,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from .serialization import CheckpointError, load, save
from .tapecheck import TapeCheckReport, check_tape
from .tensor import (
    Tensor,
    bool_,
    float16,
    float32,
    float64,
    from_numpy,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    is_tensor,
    set_default_dtype,
    tensor,
    uint8,
)

multiply, subtract, divide, negative = mul, sub, div, neg
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh, fix = asinh, acosh, atanh, trunc

# torch.autograd (with .functional) and torch.utils.data, as ported code reaches them from ``import torch``
from . import autograd, utils  # noqa: E402

__version__ = "0.1.0"

_malloc.tune_if_asked()  # only with MINIGRAD_TUNE_MALLOC=1: malloc's settings belong to the process's owner

# scans, sorting and the reductions of issue #16
from .ops.reduction import count_nonzero, prod, std_mean, var_mean  # noqa: E402
from .ops.scan import cummax, cummin, cumprod, logcumsumexp  # noqa: E402
from .ops.sorting import argsort, argwhere, kthvalue, median, mode, msort, nonzero, sort, topk, unique  # noqa: E402

# isort: split
# activations of issue #17 that torch has at its top level (torch.selu, torch.celu_, ...; not torch.silu)
from .nn.activation import (  # noqa: E402
    celu,
    celu_,
    hardshrink,
    prelu,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    threshold,
    threshold_,
)

# isort: split
# random sampling of issue #16: normal, bernoulli, multinomial, poisson, randint_like, Generator
from .generator import Generator  # noqa: E402
from .ops.sampling import bernoulli, multinomial, normal, poisson, randint_like  # noqa: E402

# isort: split
# indexing along a dimension, issue #16
from .ops.indexing import gather, scatter, scatter_add, scatter_reduce  # noqa: E402
from .ops.selection import (  # noqa: E402
    clamp_max,
    clamp_min,
    index_add,
    index_copy,
    index_fill,
    index_select,
    masked_scatter,
    masked_select,
    repeat_interleave,
    take,
    take_along_dim,
)

# isort: split
# arithmetic with alpha, square/reciprocal/float_power/addcmul/addcdiv and torch's top-level in-place
# pointwise forms (torch.exp_, torch.sigmoid_, ...), issue #16
from .conversion import as_tensor, asarray, clone, detach, empty_like, scalar_tensor  # noqa: E402
from .ops.arith import (  # noqa: E402
    abs_,
    acos_,
    acosh_,
    add,  # noqa: F811  (with PyTorch's alpha / its bool check)
    addcdiv,
    addcmul,
    arccos_,
    arccosh_,
    arcsin_,
    arcsinh_,
    arctan_,
    arctanh_,
    asin_,
    asinh_,
    atan_,
    atanh_,
    ceil_,
    cos_,
    cosh_,
    erf_,
    exp2_,
    exp_,
    expm1_,
    fix_,
    float_power,
    floor_,
    log1p_,
    log2_,
    log10_,
    log_,
    neg_,
    negative,  # noqa: F811  (with PyTorch's alpha / its bool check)
    negative_,
    positive,
    reciprocal,
    reciprocal_,
    round_,
    rsqrt_,
    rsub,
    sigmoid_,
    sin_,
    sinh_,
    sqrt_,
    square,
    square_,
    sub,  # noqa: F811  (with PyTorch's alpha / its bool check)
    subtract,  # noqa: F811  (with PyTorch's alpha / its bool check)
    tan_,
    tanh_,
    trunc_,
)
from .ops.logical import (  # noqa: E402
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    equal,
    greater,
    greater_equal,
    is_complex,
    is_floating_point,
    is_nonzero,
    is_same_size,
    is_signed,
    isin,
    isneginf,
    isposinf,
    isreal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    not_equal,
    signbit,
)
from .ops.nanreduce import aminmax, nanmean, nanmedian, nanquantile, nansum, quantile  # noqa: E402
from .ops.numeric import (  # noqa: E402
    deg2rad,
    deg2rad_,
    fmax,
    fmin,
    frac,
    frac_,
    frexp,
    gcd,
    gcd_,
    heaviside,
    lcm,
    lcm_,
    ldexp,
    ldexp_,
    nan_to_num,
    nan_to_num_,
    nextafter,
    rad2deg,
    rad2deg_,
    sgn,
)
from .ops.selection import clamp_, clip_  # noqa: E402
from .ops.special import (  # noqa: E402
    digamma,
    erfc,
    erfc_,
    erfinv,
    i0,
    i0_,
    lgamma,
    logaddexp2,
    logit,
    logit_,
    mvlgamma,
    polygamma,
    sinc,
    sinc_,
    xlogy,
    xlogy_,
)

# isort: split
# the shape, stacking/splitting, linear-algebra and counting sweep of issue #16
from .ops.blas import (  # noqa: E402
    addbmm,
    addmm,
    addmv,
    addmv_,
    addr,
    baddbmm,
    cdist,
    chain_matmul,
    cross,
    dist,
    dot,
    inner,
    kron,
    mv,
    tensordot,
    vdot,
)
from .ops.building import (  # noqa: E402
    block_diag,
    cartesian_prod,
    combinations,
    diagflat,
    get_device,
    index_put,
    index_put_,
    logspace,
    put,
    tril_indices,
    triu_indices,
    vander,
)
from .ops.counting import bincount, bucketize, histc, histogram, searchsorted, unique_consecutive  # noqa: E402
from .ops.decomp import (  # noqa: E402
    cholesky,
    cholesky_inverse,
    cholesky_solve,
    det,
    inverse,
    logdet,
    matrix_exp,
    matrix_power,
    pinverse,
    qr,
    slogdet,
    svd,
)
from .ops.decomp import lstsq_removed as lstsq  # noqa: E402
from .ops.decomp import solve_removed as solve  # noqa: E402
from .ops.lu_decomp import lu, lu_solve, lu_unpack  # noqa: E402
from .ops.series import corrcoef, cov, cumulative_trapezoid, diff, trapezoid, trapz  # noqa: E402
from .ops.stacking import (  # noqa: E402
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_shapes,
    broadcast_tensors,
    column_stack,
    dsplit,
    dstack,
    hsplit,
    hstack,
    moveaxis,
    movedim,
    narrow,
    narrow_copy,
    ravel,
    rot90,
    row_stack,
    select,
    split_with_sizes,
    swapaxes,
    swapdims,
    tensor_split,
    tile,
    unbind,
    vsplit,
    vstack,
)

# isort: split
# capture and replay, issue #21
from .compile import CaptureError, compile  # noqa: E402

# isort: split
# PyTorch's dtype aliases, as ported code spells them (dtype=torch.long, x.to(torch.float)), on NumPy's
# dtypes; and torch.finfo / torch.iinfo, which NumPy's classes answer with the same attribute names
# (eps, max, min, tiny, bits). Last in this module: from here on float, int and bool name the dtypes, as
# they do in torch's namespace (and its ``from torch import *``).
from numpy import finfo, iinfo  # noqa: E402

long, int, short = int64, int32, int16  # noqa: A001
float, double, half = float32, float64, float16  # noqa: A001
bool = bool_  # noqa: A001

from . import futures  # noqa: E402  (minigrad.futures.Future, as torch.futures: the values of async collectives)
