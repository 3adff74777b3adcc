"""PowerSGD gradient compression, as ``torch.distributed.algorithms.ddp_comm_hooks.powerSGD_hook``.

PowerSGD (Vogels, Karimireddy and Jaggi, 2019) sends a low-rank
approximation of each gradient matrix instead of the matrix. For a layer's
gradient viewed as an n x m matrix M_k on rank k, with r = min(n, m, rank):

    P = sum_k M_k Q            (n x r, one allreduce; Q is m x r, orthonormal columns)
    P <- orthogonalize(P)      (Gram-Schmidt; QR for r > 2)
    Q = sum_k M_k^T P          (m x r, one allreduce)
    M  ~ P Q^T / N             (the mean over the N ranks, projected on span(P))

so (n + m) r numbers travel instead of n m. Q starts random (standard
normal, orthogonalized) and, with ``warm_start``, is the previous
iteration's afterwards: one power iteration per step tracks the gradients'
dominant subspace. ``use_error_feedback`` adds what the last compression
lost (input minus output, kept per bucket) to the next gradient, so that
nothing is lost for good. Vectors (biases) and matrices too small to gain
``min_compression_rate`` are averaged exactly, in one allreduce per bucket.
The first ``start_powerSGD_iter`` iterations are plain allreduces.

With r = min(n, m) the projection is exact: the hook then averages exactly
(up to rounding), which the tests use. The random Q are drawn from
minigrad's generator seeded with the same integers as PyTorch's (a
``numpy.random.RandomState(random_seed)``), so the seeds agree but the
normal draws, and hence the compressed gradients, differ from PyTorch's.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from .... import backend
from ....errors import ArgumentError
from ....generator import Generator
from ....tensor import Tensor
from ... import collectives
from ...grad_bucket import GradBucket
from . import default_hooks

__all__ = ["PowerSGDState", "batched_powerSGD_hook", "powerSGD_hook"]

logger = logging.getLogger(__name__)


def _orthogonalize(matrices, epsilon: float = 0) -> None:
    """Make the columns of each matrix of a (batch, rows, r) array orthonormal, in place.

    Gram-Schmidt: each column is normalised (by its norm plus ``epsilon``;
    a zero column stays zero, where PyTorch's becomes NaN) and removed from
    the columns after it. For r > 2 the Q of a QR factorisation, faster
    there (its column signs may differ; P Q^T does not depend on them).
    """
    xp = backend.xp_of(matrices)
    r = matrices.shape[2]
    if r > 2:
        matrices[...] = xp.linalg.qr(matrices)[0]
        return
    for i in range(r):
        col = matrices[:, :, i : i + 1]
        norm = xp.sqrt((col * col).sum(axis=1, keepdims=True)) + epsilon
        col /= xp.where(norm == 0, 1, norm)
        if i + 1 < r:
            rest = matrices[:, :, i + 1 :]
            rest -= (col * rest).sum(axis=1, keepdims=True) * col


def _should_compress(num_rows: int, num_cols: int, matrix_approximation_rank: int, min_compression_rate) -> tuple:
    """(worth compressing, elements before, elements after): worth it when (n + m) r * rate < n m."""
    uncompressed, compressed = num_rows * num_cols, (num_rows + num_cols) * matrix_approximation_rank
    return compressed * min_compression_rate < uncompressed, uncompressed, compressed


class PowerSGDState:
    """PowerSGD's hyper-parameters and its per-bucket state (errors, P and Q), passed to the hook as ``state``.

    ``matrix_approximation_rank`` (r) sets the compression: start at 1 and
    double while accuracy suffers. ``start_powerSGD_iter``: plain allreduce
    before that iteration (it must exceed 1 with error feedback or warm
    start: DDP rebuilds its buckets after the first iteration).
    ``min_compression_rate``: compress a matrix only if that saves at least
    this factor. ``orthogonalization_epsilon`` guards the normalisation of
    a vanishing column. ``random_seed`` seeds the Q initialisations (the
    same on every rank). ``batch_tensors_with_same_shape`` compresses
    same-shaped matrices of a bucket in one batched product.
    ``compression_stats()`` gives (rate, elements before, elements after)
    so far; they are logged every ``compression_stats_logging_frequency``
    iterations (logger ``minigrad.distributed...powerSGD_hook``).
    """

    __slots__ = [
        "process_group", "matrix_approximation_rank", "start_powerSGD_iter", "min_compression_rate",
        "orthogonalization_epsilon", "use_error_feedback", "warm_start", "batch_tensors_with_same_shape", "rng",
        "error_dict", "p_memory_dict", "q_memory_dict", "iter", "total_numel_before_compression",
        "total_numel_after_compression", "compression_stats_logging_frequency", "next_stats_report",
    ]  # fmt: skip

    def __init__(
        self,
        process_group,
        matrix_approximation_rank=1,
        start_powerSGD_iter=1_000,
        min_compression_rate=2,
        use_error_feedback=True,
        warm_start=True,
        orthogonalization_epsilon=0,
        random_seed=0,
        compression_stats_logging_frequency=10_000,
        batch_tensors_with_same_shape: bool = False,
    ):
        if not isinstance(matrix_approximation_rank, int) or matrix_approximation_rank < 1:
            raise ArgumentError(
                f"PowerSGDState: matrix_approximation_rank must be a positive int, got {matrix_approximation_rank!r}"
            )
        if (use_error_feedback or warm_start) and start_powerSGD_iter <= 1:
            raise ArgumentError(
                "PowerSGDState: Expect `start_powerSGD_iter` > 1 if `use_error_feedback` or `warm_start` is "
                "enabled, because PowerSGD can only be applied after the first two iterations in DDP."
            )
        self.process_group = process_group
        self.matrix_approximation_rank = matrix_approximation_rank
        self.start_powerSGD_iter = start_powerSGD_iter
        self.min_compression_rate = min_compression_rate
        self.use_error_feedback = use_error_feedback
        self.warm_start = warm_start
        self.orthogonalization_epsilon = orthogonalization_epsilon
        self.batch_tensors_with_same_shape = batch_tensors_with_same_shape
        self.rng = np.random.RandomState(random_seed)  # the seeds of the Q initialisations, as PyTorch's
        self.error_dict: dict = {}  # bucket index -> what the last compression lost (an array)
        self.p_memory_dict: dict = {}  # bucket index -> the flat P (and Q) of the bucket's matrices
        self.q_memory_dict: dict = {}
        self.iter = 0
        self.total_numel_before_compression = 0
        self.total_numel_after_compression = 0
        self.compression_stats_logging_frequency = max(1, compression_stats_logging_frequency)
        self.next_stats_report = 0

    def maybe_increase_iter(self, bucket: GradBucket) -> None:
        """Count an iteration when the last bucket of a backward goes through."""
        if bucket.is_last():
            self.iter += 1
        if self.iter == self.start_powerSGD_iter:
            logger.info("Start to apply PowerSGD after %s iterations.", self.iter)

    def compression_stats(self) -> tuple:
        """(elements before / elements after, elements before, elements after), summed over the compressed steps."""
        before, after = self.total_numel_before_compression, self.total_numel_after_compression
        return (before / after if after > 0 else 0, before, after)

    def _random_q(self, shape: tuple, dtype, xp):
        """Standard normal draws from a generator seeded by ``rng`` (the same seed on every rank)."""
        from .... import randn

        g = Generator().manual_seed(int(self.rng.randint(1_000_000_000)))
        q = randn(*shape, generator=g, dtype=dtype).array
        return q if xp is np else xp.asarray(q)


def _group_size(state: PowerSGDState) -> int:
    return default_hooks._world_size(state.process_group)


def _allreduce(array, state: PowerSGDState):
    """Sum ``array`` over the ranks, in place, without waiting: a Future."""
    return collectives.all_reduce(Tensor._wrap(array), group=state.process_group, async_op=True).get_future()


def _report(bucket: GradBucket, state: PowerSGDState) -> None:
    if bucket.is_last() and state.iter >= state.next_stats_report:
        rate, before, after = state.compression_stats()
        logger.info(
            "Compression stats: iter %s, total before compression %s, total after compression %s, rate %s",
            state.iter, before, after, rate,
        )  # fmt: skip
        state.next_stats_report = state.iter + state.compression_stats_logging_frequency


def _add_error(state: PowerSGDState, index: int, flat):
    """Error feedback: add the last compression's loss to ``flat`` and return a copy of the result (or None)."""
    if not state.use_error_feedback:
        return None
    if index in state.error_dict:
        flat += state.error_dict[index]
    else:
        state.error_dict[index] = backend.xp_of(flat).zeros_like(flat)
    return flat.copy()


def powerSGD_hook(state: PowerSGDState, bucket: GradBucket):
    """Average the bucket's gradients through rank-r approximations of its matrices (see the module docstring).

    Register with ``ddp.register_comm_hook(PowerSGDState(None, ...), powerSGD_hook)``.
    Returns a :class:`minigrad.futures.Future` whose value is the bucket's
    buffer, overwritten with the (approximate) mean.
    """
    buffer = bucket.buffer()
    if state.iter < state.start_powerSGD_iter:
        state.maybe_increase_iter(bucket)
        return default_hooks._allreduce_fut(state.process_group, buffer)
    world = _group_size(state)
    flat = buffer.array
    xp = backend.xp_of(flat)
    index = bucket.index()
    before = _add_error(state, index, flat)
    views = [g.array for g in bucket.gradients()]  # views of ``flat``
    compress, exact = [], []
    for v in views:
        matrix = v.reshape(v.shape[0] if v.ndim else 1, -1)
        n, m = matrix.shape
        rank = min(n, m, state.matrix_approximation_rank)
        worth, n_before, n_after = _should_compress(n, m, rank, state.min_compression_rate)
        state.total_numel_before_compression += n_before
        if worth:
            compress.append(matrix)
            state.total_numel_after_compression += n_after
        else:
            exact.append(v)
            state.total_numel_after_compression += n_before
    _report(bucket, state)
    exact_flat = xp.concatenate([v.reshape(-1) for v in exact]) if exact else xp.zeros(0, dtype=flat.dtype)
    batches = _batches(compress, state.batch_tensors_with_same_shape, xp)
    ranks = [min(b.shape[1], b.shape[2], state.matrix_approximation_rank) for b in batches]
    p_size = sum(b.shape[0] * b.shape[1] * r for b, r in zip(batches, ranks))
    q_size = sum(b.shape[0] * b.shape[2] * r for b, r in zip(batches, ranks))
    fresh = not state.warm_start or index not in state.p_memory_dict
    if fresh:
        state.p_memory_dict[index] = xp.empty(p_size, dtype=flat.dtype)
        state.q_memory_dict[index] = xp.empty(q_size, dtype=flat.dtype)
    ps, qs, po, qo = [], [], 0, 0
    for b, r in zip(batches, ranks):
        k, n, m = b.shape
        ps.append(state.p_memory_dict[index][po : po + k * n * r].reshape(k, n, r))
        qs.append(state.q_memory_dict[index][qo : qo + k * m * r].reshape(k, m, r))
        po, qo = po + k * n * r, qo + k * m * r
    for q in qs:
        if fresh:
            q[...] = state._random_q(q.shape, flat.dtype, xp)
        _orthogonalize(q, state.orthogonalization_epsilon)
    for b, p, q in zip(batches, ps, qs):
        p[...] = b @ q

    def allreduce_ps(fut):
        exact_flat[...] /= world
        offset = 0
        for v in exact:
            v[...] = exact_flat[offset : offset + v.size].reshape(v.shape)
            offset += v.size
        return _allreduce(state.p_memory_dict[index], state).wait()[0]

    def allreduce_qs(fut):
        for p in ps:
            _orthogonalize(p, state.orthogonalization_epsilon)
        for b, p, q in zip(batches, ps, qs):
            q[...] = b.transpose(0, 2, 1) @ p
        return _allreduce(state.q_memory_dict[index], state).wait()[0]

    def decompress(fut):
        state.q_memory_dict[index] /= world
        for p, q, targets in zip(ps, qs, _targets(compress, state.batch_tensors_with_same_shape)):
            approx = p @ q.transpose(0, 2, 1)
            for j, target in enumerate(targets):
                target[...] = approx[j]
        _finish(state, index, flat, before, bucket)
        return buffer

    return _allreduce(exact_flat, state).then(allreduce_ps).then(allreduce_qs).then(decompress)


def _batches(matrices: list, same_shape: bool, xp) -> list:
    """The matrices as (k, n, m) arrays: one per matrix, or one per shape with ``same_shape``."""
    if not same_shape:
        return [mat[None] for mat in matrices]
    return [xp.stack(group) for group in _by_shape(matrices)]


def _targets(matrices: list, same_shape: bool) -> list:
    """Where each batch's approximations go back to: lists of the matrices (views of the bucket)."""
    return [[mat] for mat in matrices] if not same_shape else _by_shape(matrices)


def _by_shape(matrices: list) -> list:
    groups: dict = {}
    for mat in matrices:
        groups.setdefault(mat.shape, []).append(mat)
    return list(groups.values())


def _finish(state: PowerSGDState, index: int, flat, before, bucket: GradBucket) -> None:
    """After decompressing into ``flat``: keep the error (``before`` - ``flat``), drop P and Q without warm start."""
    if before is not None:
        state.error_dict[index] = before - flat
    if not state.warm_start:
        state.p_memory_dict.clear()
        state.q_memory_dict.clear()
    state.maybe_increase_iter(bucket)


def batched_powerSGD_hook(state: PowerSGDState, bucket: GradBucket):
    """PowerSGD on the whole bucket at once, viewed as one square matrix (zero-padded): fewer, larger products.

    The bucket's L values are laid out as a ceil(sqrt(L)) x ceil(sqrt(L))
    matrix, so the structure of the layers is ignored: cheaper to compute,
    usually a worse approximation than :func:`powerSGD_hook` at the same rank.
    """
    buffer = bucket.buffer()
    if state.iter < state.start_powerSGD_iter:
        state.maybe_increase_iter(bucket)
        return default_hooks._allreduce_fut(state.process_group, buffer)
    world = _group_size(state)
    flat = buffer.array
    xp = backend.xp_of(flat)
    length = flat.size
    side = math.ceil(math.sqrt(length))
    r = min(side, state.matrix_approximation_rank)
    state.total_numel_before_compression += length
    state.total_numel_after_compression += side * r * 2
    _report(bucket, state)
    index = bucket.index()
    padded = xp.zeros(side * side, dtype=flat.dtype)
    padded[:length] = flat
    before = _add_error(state, index, padded)
    matrix = padded.reshape(1, side, side)
    if not state.warm_start or index not in state.p_memory_dict:
        state.p_memory_dict[index] = xp.empty((1, side, r), dtype=flat.dtype)
        state.q_memory_dict[index] = state._random_q((1, side, r), flat.dtype, xp)
    p, q = state.p_memory_dict[index], state.q_memory_dict[index]
    _orthogonalize(q, state.orthogonalization_epsilon)
    p[...] = matrix @ q

    def allreduce_q(fut):
        _orthogonalize(p, state.orthogonalization_epsilon)
        q[...] = matrix.transpose(0, 2, 1) @ p
        return _allreduce(q, state).wait()[0]

    def decompress(fut):
        q[...] /= world
        matrix[...] = p @ q.transpose(0, 2, 1)
        flat[...] = padded[:length]
        _finish(state, index, padded, before, bucket)
        return buffer

    return _allreduce(p, state).then(allreduce_q).then(decompress)
