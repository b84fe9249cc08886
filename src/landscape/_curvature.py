"""Curvature of a loss at a model, from Hessian-vector products only (any Equinox model,
any ``loss_fn(model) -> scalar``):

- ``top_eigenvalues``: the k eigenvalues of largest magnitude and their eigenvectors
  (Lanczos with full reorthogonalisation);
- ``hessian_trace``: Hutchinson's estimator with Rademacher probes, and its standard error;
- ``spectral_density``: stochastic Lanczos quadrature (Ghorbani et al. 2019), a density of
  the eigenvalues on a grid;
- ``hvp_rounding``: how large the rounding error of the Hessian-vector products is,
  relative to the products themselves.

A product H·v is forward-over-reverse (``jax.jvp`` of ``jax.grad``) in the model's own
precision; the Lanczos recurrences run in NumPy float64 on top of it, so the recurrence
adds no float32 rounding of its own. The products themselves are only as good as the
model's precision: at float32 weights of ~2^30 (compiled models) they can be pure
rounding noise. Every estimate therefore comes with a rounding estimate (``return_error``)
and a ``RoundingWarning`` when that estimate is as large as the number reported (at least
half of it: ``resolved``). Two
estimates, combined by taking the larger:

- ``"x64"``: a few products recomputed with the parameters, the direction and the loss in
  float64 (``jax.enable_x64(True)``; the model's weights cast exactly to float64, so the
  same point), compared with the model-precision products. Only for models below float64.
- ``"asymmetry"``: the exact Hessian is symmetric, so uᵀ(Hv) − vᵀ(Hu) over pairs of
  vectors the method already multiplied (Lanczos basis vectors, consecutive Hutchinson
  probes) is rounding. Free (no extra products), but it sees only the antisymmetric part
  of the error: a lower estimate. The only one for float64 models.

``rounding="auto"`` (default) uses both where float64 is available, else the asymmetry.
"""

import math
import warnings
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import PRNGKeyArray, PyTree

ROUNDING_METHODS = ("auto", "x64", "asymmetry")


class RoundingWarning(UserWarning):
    """A curvature estimate whose rounding estimate is as large as the estimate itself:
    the number is rounding noise, not curvature."""


@eqx.filter_jit
def _hvp(loss_fn: Callable[[PyTree], jax.Array], params: PyTree, static: PyTree, v: PyTree) -> jax.Array:
    """H·v, flat: the Hessian of ``loss_fn`` at the model ``combine(params, static)`` times
    ``v`` (a pytree like ``params``), forward over reverse. One jitted function for every
    operator: ``loss_fn`` (static, hashed by identity) and the model's structure key its
    traces, so the eigenvalues, the trace and the density of one loss at one model (or
    another model of its architecture) trace it once (once more for the float64
    recomputation)."""

    def f(p):
        return loss_fn(eqx.combine(p, static))

    return ravel_pytree(jax.jvp(jax.grad(f), (params,), (v,))[1])[0]


def x64_available() -> bool:
    """Whether float64 is available, for the rounding estimates' recomputation.

    **Returns:**

    Whether ``jax.enable_x64(True)`` gives float64 arrays here (a bool).
    """
    if not hasattr(jax, "enable_x64"):
        return False
    try:
        with jax.enable_x64(True):
            return jnp.zeros((), jnp.float64).dtype == jnp.float64
    except Exception:  # noqa: BLE001 - any failure means: not available
        return False


class _Operator:
    """H·v for flat float64 vectors v: the Hessian of ``loss_fn`` at ``model``'s trainable
    leaves (``eqx.is_inexact_array``), compiled once per loss function and architecture
    (``_hvp``); ``reference(v)``: the same product in float64."""

    def __init__(self, loss_fn: Callable[[PyTree], jax.Array], model: PyTree, rounding: str = "auto"):
        if rounding not in ROUNDING_METHODS:
            raise ValueError(f"rounding must be one of {', '.join(ROUNDING_METHODS)}, got {rounding!r}")
        params, static = eqx.partition(model, eqx.is_inexact_array)
        flat, self.unravel = ravel_pytree(params)
        self.loss_fn, self.params, self.static = loss_fn, params, static
        self.size, self.dtype = flat.size, flat.dtype
        self.theta = np.asarray(flat, np.float64)
        self._hvp = lambda v: _hvp(loss_fn, params, static, self.unravel(v.astype(self.dtype)))
        self.products = 0
        below64 = np.dtype(self.dtype).itemsize < 8
        if rounding == "x64" and not below64:
            raise ValueError("rounding='x64': the model is already float64, there is no higher precision to "
                             "recompute in; use rounding='asymmetry'")
        if rounding == "x64" and not x64_available():
            raise ValueError("rounding='x64': float64 is not available here (jax.enable_x64)")
        self.x64 = rounding in ("auto", "x64") and below64 and x64_available()
        self.method = "x64+asymmetry" if self.x64 else "asymmetry"

    def __call__(self, v: np.ndarray) -> np.ndarray:
        self.products += 1
        out = np.array(self._hvp(v), np.float64)  # a writable copy (float64 models too)
        if not np.all(np.isfinite(out)):
            raise ValueError("the Hessian-vector product is not finite: the loss is not twice differentiable "
                             "(or overflows) at this model")
        return out

    def reference(self, v: np.ndarray) -> np.ndarray | None:
        """H·v with the parameters, ``v`` and the loss in float64 (None when ``self.x64``
        is off, or when the loss cannot run in float64: then a warning, and the
        asymmetry alone)."""
        if not self.x64:
            return None
        try:
            with jax.enable_x64(True):
                params = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), self.params)
                _, unravel = ravel_pytree(params)
                out = np.asarray(_hvp(self.loss_fn, params, self.static, unravel(jnp.asarray(v, jnp.float64))),
                                 np.float64)
        except Exception as err:  # noqa: BLE001 - a loss that cannot run in float64
            warnings.warn(f"the float64 recomputation of a Hessian-vector product failed ({type(err).__name__}: "
                          f"{err}); the rounding estimate falls back to the asymmetry alone", RoundingWarning,
                          stacklevel=3)
            self.x64, self.method = False, "asymmetry"
            return None
        return out if np.all(np.isfinite(out)) else None

    def pytree(self, v: np.ndarray) -> PyTree:
        """A flat vector as a pytree shaped like the model's trainable leaves."""
        return self.unravel(np.asarray(v, self.dtype))


def _lanczos(op: _Operator, v0: np.ndarray, iters: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``iters`` Lanczos steps from ``v0`` with full reorthogonalisation (float64): the
    tridiagonal's diagonal α, off-diagonal β, the basis Q ``[m, N]`` (m <= iters: fewer
    when the Krylov space is exhausted) and the products W = H·Q ``[m, N]`` as computed."""
    m = min(iters, op.size)
    Q, W = np.zeros((m, op.size)), np.zeros((m, op.size))
    alpha, beta = np.zeros(m), np.zeros(max(m - 1, 0))
    q = v0 / np.linalg.norm(v0)
    size = 0.0  # the largest ‖H·q‖ so far: the operator's scale, for the exhaustion test
    for j in range(m):
        Q[j] = q
        w = op(q)
        W[j] = w
        size = max(size, float(np.linalg.norm(w)))
        alpha[j] = q @ w
        w -= Q[: j + 1].T @ (Q[: j + 1] @ w)  # full reorthogonalisation, twice for stability
        w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        if j == m - 1:
            break
        b = np.linalg.norm(w)
        if b <= 1e-10 * size:  # an invariant subspace (relative to H's own scale, however small): exact
            return alpha[: j + 1], beta[:j], Q[: j + 1], W[: j + 1]
        beta[j] = b
        q = w / b
    return alpha, beta, Q, W


def _asymmetry(Q: np.ndarray, W: np.ndarray) -> np.ndarray:
    """(A − Aᵀ)/2 for A = Q·Wᵀ, A_ij = q_i·(H q_j): zero for an exact (symmetric) Hessian."""
    A = Q @ W.T
    return (A - A.T) / 2


def _tridiagonal_eigh(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    return np.linalg.eigh(T)


def _start(key: PRNGKeyArray, size: int) -> np.ndarray:
    return np.array(jax.random.normal(key, (size,)), np.float64)


def resolved(value, error):
    """Whether ``value`` is resolved: its rounding estimate ``error`` is below half its
    magnitude (an estimate is an order of magnitude, so "as large as" starts at half).
    Elementwise for arrays.

    **Arguments:**

    - `value`, `error`: numbers or arrays of one shape.

    **Returns:**

    ``error < |value| / 2`` (a bool, or a bool array).
    """
    out = np.asarray(error, float) < np.abs(np.asarray(value, float)) / 2
    return bool(out) if out.ndim == 0 else out


def _warn_unresolved(what: str, values, errors, method: str) -> None:
    values, errors = np.atleast_1d(np.asarray(values, float)), np.atleast_1d(np.asarray(errors, float))
    bad = ~resolved(values, errors)
    if bad.any():
        shown = ", ".join(f"{v:.3g} (rounding ~{e:.2g})" for v, e in zip(values[bad], errors[bad]))
        warnings.warn(f"{what}: {shown} - the rounding estimate ({method}) of the Hessian-vector products is as "
                      f"large as the value: rounding noise, not curvature (compute in float64, or at smaller "
                      f"weights)", RoundingWarning, stacklevel=3)


def top_eigenvalues(loss_fn: Callable[[PyTree], jax.Array], model: PyTree, *, k: int = 1, key: PRNGKeyArray,
                    iters: int = 100, rounding: str = "auto", return_error: bool = False):
    """The ``k`` Hessian eigenvalues of largest magnitude at ``model``, by Lanczos from a
    Gaussian start (exact once ``iters`` reaches the number of parameters).

    **Arguments:**

    - `loss_fn`: ``model -> scalar``, twice differentiable.
    - `model`: an Equinox model; its inexact arrays are the parameters.
    - `k`: how many eigenvalues.
    - `key`: the Lanczos start's key.
    - `iters`: Lanczos steps (Hessian-vector products) at most.
    - `rounding`: how the products' rounding error is estimated: ``"x64"`` (each Ritz
      vector q's product recomputed in float64; error ‖H·q − H₆₄·q‖, which bounds how
      far the float64 Hessian's nearest eigenvalue can move), ``"asymmetry"`` (‖S u‖,
      S the antisymmetric part of the Lanczos basis' products Q·(HQ)ᵀ, u the Ritz
      vector in that basis: free, a lower estimate) or ``"auto"`` (both, the larger;
      the asymmetry alone for float64 models or without float64).
    - `return_error`: also return the rounding estimates.

    **Returns:**

    ``(eigenvalues, vectors)``: the eigenvalues, largest magnitude first (float64 array
    ``(k,)``), and their unit eigenvectors as pytrees shaped like the model's trainable
    leaves; with ``return_error``, ``(eigenvalues, vectors, errors)``, ``errors`` the
    rounding estimate of each eigenvalue (float64 ``(k,)``). Warns (``RoundingWarning``)
    when an eigenvalue is not ``resolved`` (estimate >= half its magnitude).
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    op = _Operator(loss_fn, model, rounding)
    if k > op.size:
        raise ValueError(f"k = {k} exceeds the number of parameters, {op.size}")
    alpha, beta, Q, W = _lanczos(op, _start(key, op.size), max(iters, k))
    theta, U = _tridiagonal_eigh(alpha, beta)
    order = np.argsort(-np.abs(theta))[:k]
    if len(order) < k:
        raise ValueError(f"the Krylov space from this start has only {len(order)} directions; fewer than k = {k}")
    S = _asymmetry(Q, W)
    vectors, errors = [], []
    for i in order:
        v = Q.T @ U[:, i]
        v /= np.linalg.norm(v)
        err = float(np.linalg.norm(S @ U[:, i]))
        ref = op.reference(v)
        if ref is not None:
            err = max(err, float(np.linalg.norm(op(v) - ref)))
        vectors.append(op.pytree(v))
        errors.append(err)
    eig, errors = theta[order], np.asarray(errors)
    _warn_unresolved("top_eigenvalues", eig, errors, op.method)
    return (eig, vectors, errors) if return_error else (eig, vectors)


def hessian_trace(loss_fn: Callable[[PyTree], jax.Array], model: PyTree, *, key: PRNGKeyArray,
                  samples: int = 100, rounding: str = "auto", probes: int = 4, return_error: bool = False):
    """Hutchinson's estimate of tr(H) at ``model``: the mean of zᵀHz over Rademacher
    vectors z.

    **Arguments:**

    - `loss_fn`, `model`: as for ``top_eigenvalues``.
    - `key`: the probes' key.
    - `samples`: how many probes (>= 2).
    - `rounding`: ``"x64"`` (the first ``probes`` probes' products recomputed in float64;
      error: the root mean square of zᵀ(H·z − H₆₄·z)), ``"asymmetry"`` (the root mean
      square of (z_iᵀHz_{i+1} − z_{i+1}ᵀHz_i)/√2 over consecutive probes: free, a lower
      estimate) or ``"auto"`` (both, the larger; the asymmetry alone for float64 models
      or without float64). Either is one probe's rounding error: an upper estimate of
      the mean's unless the errors are systematic.
    - `probes`: how many products the ``"x64"`` estimate recomputes.
    - `return_error`: also return the rounding estimate.

    **Returns:**

    ``(estimate, stderr)``, the standard error std / √samples; with ``return_error``,
    ``(estimate, stderr, rounding_error)``. Warns (``RoundingWarning``) when the rounding
    estimate is not ``resolved`` (>= |estimate| / 2).
    """
    if samples < 2:
        raise ValueError(f"samples must be >= 2 for a standard error, got {samples}")
    op = _Operator(loss_fn, model, rounding)
    Z = np.asarray(jax.random.rademacher(key, (samples, op.size)), np.float64)
    P = np.stack([op(z) for z in Z])
    values = np.einsum("ij,ij->i", Z, P)
    pairs = np.einsum("ij,ij->i", Z[:-1], P[1:]) - np.einsum("ij,ij->i", Z[1:], P[:-1])
    err = float(np.sqrt(np.mean(pairs**2) / 2))
    refs = [(z, p, op.reference(z)) for z, p in zip(Z[:probes], P[:probes])] if op.x64 else []
    diffs = [z @ (p - r) for z, p, r in refs if r is not None]
    if diffs:
        err = max(err, float(np.sqrt(np.mean(np.square(diffs)))))
    estimate, stderr = float(values.mean()), float(values.std(ddof=1) / np.sqrt(samples))
    _warn_unresolved("hessian_trace", estimate, err, op.method)
    return (estimate, stderr, err) if return_error else (estimate, stderr)


def spectral_density(loss_fn: Callable[[PyTree], jax.Array], model: PyTree, *, key: PRNGKeyArray, iters: int = 80,
                     runs: int = 10, points: int = 1000, sigma: float | None = None, rounding: str = "auto",
                     probes: int = 4, return_error: bool = False):
    """Stochastic Lanczos quadrature: ``runs`` Lanczos runs of ``iters`` steps from
    Gaussian starts (keys split from ``key``); each run's Ritz values θ_i weighted by the
    squared first components of their eigenvectors, smoothed by Gaussians of width
    ``sigma`` (default: 1% of the spectrum's span).

    **Arguments:**

    - `loss_fn`, `model`: as for ``top_eigenvalues``.
    - `key`, `iters`, `runs`, `points`, `sigma`: as above.
    - `rounding`: ``"x64"`` (the first run's Ritz vectors q of the ``probes`` largest
      |nodes| recomputed in float64; error: the largest ‖H·q − H₆₄·q‖), ``"asymmetry"`` (the
      largest spectral norm over runs of the antisymmetric part of Q·(HQ)ᵀ: free, a lower
      estimate) or ``"auto"`` (both, the larger; the asymmetry alone for float64 models or
      without float64). An eigenvalue-sized uncertainty of every node.
    - `probes`: how many products the ``"x64"`` estimate recomputes.
    - `return_error`: also return the rounding estimate.

    **Returns:**

    ``(grid, density)`` on ``points`` points spanning the spectrum ± 5σ; the density
    integrates to 1. With ``return_error``, ``(grid, density, rounding_error)``. Warns
    (``RoundingWarning``) when the largest |node| is not ``resolved``: the spectrum's
    extent is rounding noise.
    """
    if runs < 1 or iters < 1:
        raise ValueError(f"runs and iters must be >= 1, got runs={runs}, iters={iters}")
    op = _Operator(loss_fn, model, rounding)
    nodes, weights, err = [], [], 0.0
    for r, run_key in enumerate(jax.random.split(key, runs)):
        alpha, beta, Q, W = _lanczos(op, _start(run_key, op.size), iters)
        theta, U = _tridiagonal_eigh(alpha, beta)
        nodes.append(theta)
        weights.append(U[0] ** 2 / runs)
        err = max(err, float(np.linalg.norm(_asymmetry(Q, W), 2)))
        if r == 0 and op.x64:  # the Ritz vectors of the largest |nodes|: where the spectrum's extent is decided
            for i in np.argsort(-np.abs(theta))[:probes]:
                q = Q.T @ U[:, i]
                q /= np.linalg.norm(q)
                ref = op.reference(q)
                if ref is not None:
                    err = max(err, float(np.linalg.norm(op(q) - ref)))
    nodes, weights = np.concatenate(nodes), np.concatenate(weights)
    _warn_unresolved("spectral_density (largest |node|)", np.abs(nodes).max(), err, op.method)
    span = float(nodes.max() - nodes.min())
    sigma = sigma or max(0.01 * span, 1e-12 * float(np.abs(nodes).max()), 1e-300)  # relative: tiny spectra too
    grid = np.linspace(nodes.min() - 5 * sigma, nodes.max() + 5 * sigma, points)
    density = (weights[None, :] * np.exp(-0.5 * ((grid[:, None] - nodes[None, :]) / sigma) ** 2)).sum(1)
    density = density / (sigma * np.sqrt(2 * np.pi))
    return (grid, density, err) if return_error else (grid, density)


def hvp_rounding(loss_fn: Callable[[PyTree], jax.Array], model: PyTree, *, key: PRNGKeyArray, probes: int = 4,
                 rounding: str = "auto") -> dict:
    """How large the rounding error of the Hessian-vector products at ``model`` is,
    relative to the products, from ``probes`` Gaussian unit vectors v (drawn from ``key``).

    **Arguments:**

    - `loss_fn`, `model`: as for ``top_eigenvalues``.
    - `key`: the probes' key.
    - `probes`: how many vectors (>= 2 for the asymmetry).
    - `rounding`: ``"x64"``, ``"asymmetry"`` or ``"auto"``, as for ``top_eigenvalues``.

    **Returns:**

    A dict: ``method`` (what was used), ``x64_relative`` (max over v of
    ‖H·v − H₆₄·v‖ / ‖H₆₄·v‖, None without float64), ``asymmetry_relative``
    (‖A − Aᵀ‖_F / (√2‖A‖_F) for A_ij = v_i·(H v_j)), ``relative`` (the larger) and
    ``resolved`` (``relative < 1/2``). Warns (``RoundingWarning``) when not resolved.
    """
    if probes < 2:
        raise ValueError(f"probes must be >= 2, got {probes}")
    op = _Operator(loss_fn, model, rounding)
    V = np.array(jax.random.normal(key, (probes, op.size)), np.float64)
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    P = np.stack([op(v) for v in V])
    A = V @ P.T
    asym = float(np.linalg.norm(A - A.T) / max(math.sqrt(2) * np.linalg.norm(A), 1e-300))
    x64 = None
    if op.x64:
        rel = []
        for v, p in zip(V, P):
            ref = op.reference(v)
            if ref is not None:
                rel.append(np.linalg.norm(p - ref) / max(np.linalg.norm(ref), 1e-300))
        x64 = float(max(rel)) if rel else None
    relative = max(asym, x64 or 0.0)
    _warn_unresolved("hvp_rounding (relative error)", 1.0, relative, op.method)
    return {"method": op.method, "x64_relative": x64, "asymmetry_relative": asym, "relative": relative,
            "resolved": resolved(1.0, relative)}
