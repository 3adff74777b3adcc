"""Synthetic data: two moons, spirals, and quadratics with a chosen spectrum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tensor import Tensor


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0, dtype=np.float32):
    """Two interleaving half circles: (x of shape (n, 2), labels 0/1 int64)."""
    rng = np.random.default_rng(seed)
    n_top = n // 2
    t_top = np.pi * rng.random(n_top)
    t_bottom = np.pi * rng.random(n - n_top)
    top = np.stack([np.cos(t_top), np.sin(t_top)], axis=1)
    bottom = np.stack([1 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)], axis=1)
    x = np.concatenate([top, bottom]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n_top), np.ones(n - n_top)]).astype(np.int64)
    order = rng.permutation(n)
    return Tensor._wrap(x[order].astype(dtype)), Tensor._wrap(y[order])


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0, dtype=np.float32):
    """``classes`` interleaved spiral arms (the CS231n toy set): (x of shape (n, 2), labels int64)."""
    rng = np.random.default_rng(seed)
    per = n // classes
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1.0, per)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, per) + noise * rng.standard_normal(per)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(per, c))
    order = rng.permutation(per * classes)
    x, y = np.concatenate(xs)[order], np.concatenate(ys)[order].astype(np.int64)
    return Tensor._wrap(x.astype(dtype)), Tensor._wrap(y)


@dataclass
class Quadratic:
    """f(x) = 1/2 x^T A x - b^T x with A = Q diag(eigenvalues) Q^T; minimum at ``minimizer``."""

    A: np.ndarray
    b: np.ndarray
    eigenvalues: np.ndarray
    minimizer: np.ndarray

    @property
    def condition_number(self) -> float:
        return float(self.eigenvalues.max() / self.eigenvalues.min())

    def __call__(self, x):
        """f at a tensor x (differentiable)."""
        A, b = Tensor._wrap(self.A.astype(x.dtype)), Tensor._wrap(self.b.astype(x.dtype))
        return 0.5 * (x @ (A @ x)) - b @ x

    def value(self, x) -> float:
        x = np.asarray(x, dtype=np.float64)
        return float(0.5 * x @ self.A @ x - self.b @ x)


def quadratic(eigenvalues, seed: int = 0, rotate: bool = True, minimizer=None) -> Quadratic:
    """An ill-conditioned quadratic with the given spectrum (rotated by a random orthogonal Q when ``rotate``)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if (lam <= 0).any():
        raise ValueError("quadratic: eigenvalues must be positive")
    rng = np.random.default_rng(seed)
    q = np.linalg.qr(rng.standard_normal((lam.size, lam.size)))[0] if rotate else np.eye(lam.size)
    a = q @ np.diag(lam) @ q.T
    x_star = rng.standard_normal(lam.size) if minimizer is None else np.asarray(minimizer, dtype=np.float64)
    return Quadratic(a, a @ x_star, lam, x_star)
