"""Curvature of a loss at a model, from Hessian-vector products only (any Equinox model,
any ``loss_fn(model) -> scalar``):

- ``top_eigenvalues``: the k eigenvalues of largest magnitude and their eigenvectors
  (Lanczos with full reorthogonalisation);
- ``hessian_trace``: Hutchinson's estimator with Rademacher probes, and its standard error;
- ``spectral_density``: stochastic Lanczos quadrature (Ghorbani et al. 2019), a density of
  the eigenvalues on a grid.

A product H·v is forward-over-reverse (``jax.jvp`` of ``jax.grad``) in the model's own
precision; the Lanczos recurrences run in NumPy float64 on top of it, so weights of ~1e9
(compiled models) do not drown the small eigenvalues in float32 rounding of the
recurrence, and no global ``jax_enable_x64`` switch is needed.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import PRNGKeyArray, PyTree


@eqx.filter_jit
def _hvp(loss_fn: Callable[[PyTree], jax.Array], params: PyTree, static: PyTree, v: PyTree) -> jax.Array:
    """H·v, flat: the Hessian of ``loss_fn`` at the model ``combine(params, static)`` times
    ``v`` (a pytree like ``params``), forward over reverse. One jitted function for every
    operator: ``loss_fn`` (static, hashed by identity) and the model's structure key its
    traces, so the eigenvalues, the trace and the density of one loss at one model (or
    another model of its architecture) trace it once."""

    def f(p):
        return loss_fn(eqx.combine(p, static))

    return ravel_pytree(jax.jvp(jax.grad(f), (params,), (v,))[1])[0]


class _Operator:
    """H·v for flat float64 vectors v: the Hessian of ``loss_fn`` at ``model``'s trainable
    leaves (``eqx.is_inexact_array``), compiled once per loss function and architecture
    (``_hvp``)."""

    def __init__(self, loss_fn: Callable[[PyTree], jax.Array], model: PyTree):
        params, static = eqx.partition(model, eqx.is_inexact_array)
        flat, self.unravel = ravel_pytree(params)
        self.size, self.dtype = flat.size, flat.dtype
        self.theta = np.asarray(flat, np.float64)
        self._hvp = lambda v: _hvp(loss_fn, params, static, self.unravel(v.astype(self.dtype)))
        self.products = 0

    def __call__(self, v: np.ndarray) -> np.ndarray:
        self.products += 1
        out = np.asarray(self._hvp(v), np.float64)
        if not np.all(np.isfinite(out)):
            raise ValueError("the Hessian-vector product is not finite: the loss is not twice differentiable "
                             "(or overflows) at this model")
        return out

    def pytree(self, v: np.ndarray) -> PyTree:
        """A flat vector as a pytree shaped like the model's trainable leaves."""
        return self.unravel(np.asarray(v, self.dtype))


def _lanczos(op: _Operator, v0: np.ndarray, iters: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``iters`` Lanczos steps from ``v0`` with full reorthogonalisation (float64): the
    tridiagonal's diagonal α, off-diagonal β and the basis Q ``[m, N]`` (m <= iters:
    fewer when the Krylov space is exhausted)."""
    m = min(iters, op.size)
    Q = np.zeros((m, op.size))
    alpha, beta = np.zeros(m), np.zeros(max(m - 1, 0))
    q = v0 / np.linalg.norm(v0)
    for j in range(m):
        Q[j] = q
        w = op(q)
        alpha[j] = q @ w
        w -= Q[: j + 1].T @ (Q[: j + 1] @ w)  # full reorthogonalisation, twice for stability
        w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        if j == m - 1:
            break
        b = np.linalg.norm(w)
        if b < 1e-10 * max(1.0, np.abs(alpha[: j + 1]).max()):  # an invariant subspace: exact
            return alpha[: j + 1], beta[:j], Q[: j + 1]
        beta[j] = b
        q = w / b
    return alpha, beta, Q


def _tridiagonal_eigh(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    return np.linalg.eigh(T)


def _start(key: PRNGKeyArray, size: int) -> np.ndarray:
    return np.asarray(jax.random.normal(key, (size,)), np.float64)


def top_eigenvalues(loss_fn: Callable[[PyTree], jax.Array], model: PyTree, *, k: int = 1, key: PRNGKeyArray,
                    iters: int = 100) -> tuple[np.ndarray, list[PyTree]]:
    """The ``k`` Hessian eigenvalues of largest magnitude at ``model``, largest magnitude
    first (float64 array ``(k,)``), and their unit eigenvectors as pytrees shaped like the
    model's trainable leaves. Lanczos from a Gaussian start drawn from ``key``, ``iters``
    products at most (exact once ``iters`` reaches the number of parameters)."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    op = _Operator(loss_fn, model)
    if k > op.size:
        raise ValueError(f"k = {k} exceeds the number of parameters, {op.size}")
    alpha, beta, Q = _lanczos(op, _start(key, op.size), max(iters, k))
    theta, U = _tridiagonal_eigh(alpha, beta)
    order = np.argsort(-np.abs(theta))[:k]
    if len(order) < k:
        raise ValueError(f"the Krylov space from this start has only {len(order)} directions; fewer than k = {k}")
    vectors = [Q.T @ U[:, i] for i in order]
    return theta[order], [op.pytree(v / np.linalg.norm(v)) for v in vectors]


def hessian_trace(loss_fn: Callable[[PyTree], jax.Array], model: PyTree, *, key: PRNGKeyArray,
                  samples: int = 100) -> tuple[float, float]:
    """Hutchinson's estimate of tr(H) at ``model``: the mean of zᵀHz over ``samples``
    Rademacher vectors z (drawn from ``key``), and its standard error (std / √samples)."""
    if samples < 2:
        raise ValueError(f"samples must be >= 2 for a standard error, got {samples}")
    op = _Operator(loss_fn, model)
    Z = np.asarray(jax.random.rademacher(key, (samples, op.size)), np.float64)
    values = np.array([z @ op(z) for z in Z])
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(samples))


def spectral_density(loss_fn: Callable[[PyTree], jax.Array], model: PyTree, *, key: PRNGKeyArray, iters: int = 80,
                     runs: int = 10, points: int = 1000, sigma: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic Lanczos quadrature: ``runs`` Lanczos runs of ``iters`` steps from
    Gaussian starts (keys split from ``key``); each run's Ritz values θ_i weighted by the
    squared first components of their eigenvectors, smoothed by Gaussians of width
    ``sigma`` (default: 1% of the spectrum's span). Returns ``(grid, density)`` on
    ``points`` points spanning the spectrum ± 5σ; the density integrates to 1."""
    if runs < 1 or iters < 1:
        raise ValueError(f"runs and iters must be >= 1, got runs={runs}, iters={iters}")
    op = _Operator(loss_fn, model)
    nodes, weights = [], []
    for run_key in jax.random.split(key, runs):
        alpha, beta, _ = _lanczos(op, _start(run_key, op.size), iters)
        theta, U = _tridiagonal_eigh(alpha, beta)
        nodes.append(theta)
        weights.append(U[0] ** 2 / runs)
    nodes, weights = np.concatenate(nodes), np.concatenate(weights)
    span = float(nodes.max() - nodes.min())
    sigma = sigma or max(0.01 * span, 1e-12 * max(1.0, float(np.abs(nodes).max())), 1e-30)
    grid = np.linspace(nodes.min() - 5 * sigma, nodes.max() + 5 * sigma, points)
    density = (weights[None, :] * np.exp(-0.5 * ((grid[:, None] - nodes[None, :]) / sigma) ** 2)).sum(1)
    return grid, density / (sigma * np.sqrt(2 * np.pi))
