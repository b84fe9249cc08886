"""Directions in parameter space (Li et al. 2018, "Visualizing the loss landscape").

Every function works on any Equinox pytree: the trainable leaves are
``eqx.filter(model, eqx.is_inexact_array)``; a *direction* is a pytree of that shape.
The filter axis of a weight is its output axis, axis 0 (Equinox stores ``[out, in]``).
"""

from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import PRNGKeyArray, PyTree

Bias = Literal["zero", "normalize"]


def params_of(model: PyTree) -> PyTree:
    """The trainable leaves of ``model`` (other leaves None)."""
    return eqx.filter(model, eqx.is_inexact_array)


def _norm(x, axes):
    return jnp.sqrt(jnp.sum(x * x, axis=axes, keepdims=True))


def filter_normalize(direction: PyTree, model: PyTree, *, bias: Bias = "zero") -> PyTree:
    """Rescale ``direction`` filter by filter to ``model``'s norms.

    For a leaf with >= 2 axes, each filter ``d[k]`` (a slice along axis 0, the output
    unit) becomes ``d[k] / |d[k]| * |θ[k]|``. Leaves with < 2 axes (biases, layer-norm
    scales) are zeroed (``bias="zero"``, Li et al.'s ``ignore='biasbn'``) or rescaled as a
    whole to ``|θ|`` (``bias="normalize"``).

    **Arguments:**

    - `direction`: a pytree shaped like the model's trainable leaves.
    - `model`: the model whose norms it takes.
    - `bias`: ``"zero"`` or ``"normalize"``, for leaves with fewer than 2 axes.

    **Returns:**

    The rescaled direction (same structure).
    """
    if bias not in ("zero", "normalize"):
        raise ValueError(f"bias must be 'zero' or 'normalize', got {bias!r}")

    def one(d, theta):
        if d is None:
            return None
        if d.ndim < 2:
            if bias == "zero":
                return jnp.zeros_like(d)
            return d / (jnp.linalg.norm(d) + 1e-10) * jnp.linalg.norm(theta)
        axes = tuple(range(1, d.ndim))
        return d / (_norm(d, axes) + 1e-10) * _norm(theta, axes)

    return jax.tree.map(one, direction, params_of(model), is_leaf=lambda x: x is None)


def random_direction(model: PyTree, key: PRNGKeyArray, *, bias: Bias = "zero") -> PyTree:
    """A Gaussian direction filter-normalised to ``model`` (``filter_normalize``).

    **Arguments:**

    - `model`: any Equinox model.
    - `key`: split over the leaves in pytree order.
    - `bias`: ``"zero"`` or ``"normalize"`` (``filter_normalize``).

    **Returns:**

    A direction: a pytree shaped like ``eqx.filter(model, eqx.is_inexact_array)``.
    """
    params = params_of(model)
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(key, max(len(leaves), 1))
    noise = jax.tree.unflatten(tree, [jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)])
    return filter_normalize(noise, model, bias=bias)


def flatten(tree: PyTree) -> jax.Array:
    """Every leaf of ``tree`` in one vector (``jax.flatten_util.ravel_pytree``)."""
    return ravel_pytree(tree)[0]


def unflatten(vector, like: PyTree) -> PyTree:
    """``vector`` in ``like``'s structure, shapes and dtype (the inverse of ``flatten``)."""
    flat, unravel = ravel_pytree(like)
    return unravel(jnp.asarray(vector, flat.dtype))


def orthogonalize(d1: PyTree, d2: PyTree) -> PyTree:
    """Gram-Schmidt on two directions.

    **Arguments:**

    - `d1`, `d2`: directions of one structure.

    **Returns:**

    ``d2`` minus its projection on ``d1``, rescaled to ``d2``'s norm.
    """
    v1, v2 = flatten(d1), flatten(d2)
    w = v2 - (v2 @ v1) / (v1 @ v1) * v1
    return unflatten(w / jnp.linalg.norm(w) * jnp.linalg.norm(v2), d2)


def _check_same_structure(*models: PyTree) -> None:
    if len({jax.tree.structure(params_of(m)) for m in models}) > 1:
        raise ValueError("the models have different structures; compare models of the same architecture")


def difference(a: PyTree, b: PyTree) -> PyTree:
    """``params(a) - params(b)`` (the models must share a structure)."""
    _check_same_structure(a, b)
    return jax.tree.map(lambda x, y: x - y, params_of(a), params_of(b))


class Plane(NamedTuple):
    """The plane through three models θ0, θ1, θ2: directions ``d1``, ``d2`` (θ0 + a·d1 +
    b·d2 spans it), each model's ``coords`` (a, b) (rows: θ0, θ1, θ2), and ``weights``, the
    2×2 map from (a, b) to (p, q) with θ0 + a·d1 + b·d2 = (1-p-q)·θ0 + p·θ1 + q·θ2."""

    d1: PyTree
    d2: PyTree
    coords: np.ndarray
    weights: np.ndarray


def plane(origin: PyTree, m1: PyTree, m2: PyTree) -> Plane:
    """The plane through three models (e.g. compiled, learned, init) by explicit
    Gram-Schmidt in float64: d1 = m1 - origin, d2 = the part of (m2 - origin) orthogonal
    to d1, so m1 sits at (1, 0) and m2 at (c, 1). (A compiled model's weights reach ~1e9:
    float32 would lose that orthogonal part in rounding, and scaling d2 to |d1| would put
    m2 at b ~ 1e-8.)

    **Arguments:**

    - `origin`, `m1`, `m2`: three models of one architecture, not collinear.

    **Returns:**

    A ``Plane``: directions ``d1``, ``d2``, each model's ``coords`` ``[3, 2]`` (rows:
    origin, m1, m2) and ``weights``, the 2×2 map from (a, b) to (p, q) with
    origin + a·d1 + b·d2 = (1-p-q)·origin + p·m1 + q·m2 (``evaluate_surface``'s
    ``anchors``).
    """
    _check_same_structure(origin, m1, m2)
    as64 = lambda m: np.asarray(flatten(params_of(m)), np.float64)
    x0 = as64(origin)
    v1, v2 = as64(m1) - x0, as64(m2) - x0
    n1 = np.linalg.norm(v1)
    if n1 == 0.0:
        raise ValueError("the first two models are identical: no plane through them")
    e1 = v1 / n1
    c = v2 @ e1
    w = v2 - c * e1
    nw = np.linalg.norm(w)
    if nw < 1e-12 * n1:
        raise ValueError("the three models are collinear: no unique plane")
    like = params_of(origin)
    d1, d2 = unflatten(jnp.asarray(v1), like), unflatten(jnp.asarray(w), like)
    coords = np.array([[0.0, 0.0], [1.0, 0.0], [c / n1, 1.0]])
    weights = np.array([[1.0, -c / n1], [0.0, 1.0]])
    return Plane(d1, d2, coords, weights)


def pca_directions(trajectory: list[PyTree], final: PyTree | None = None) -> tuple[PyTree, PyTree, np.ndarray, np.ndarray]:
    """Li et al.'s trajectory PCA: the top-2 principal directions of (θ_t - θ_final).

    **Arguments:**

    - `trajectory`: the parameter snapshots (models of one architecture), at least two.
    - `final`: the centre (default: the last snapshot).

    **Returns:**

    ``(d1, d2, coords, explained)``: the two directions scaled to unit norm, each
    snapshot's (a, b) coordinates ``[snapshots, 2]`` and the explained variance ratios
    ``[2]``.
    """
    final = trajectory[-1] if final is None else final
    X = np.stack([np.asarray(flatten(difference(t, final))) for t in trajectory])
    if X.shape[0] < 2:
        raise ValueError("need at least two snapshots for PCA directions")
    _, S, Vt = np.linalg.svd(X, full_matrices=False)
    like = params_of(final)
    d1, d2 = unflatten(jnp.asarray(Vt[0]), like), unflatten(jnp.asarray(Vt[1] if len(Vt) > 1 else 0 * Vt[0]), like)
    coords = X @ Vt[:2].T
    return d1, d2, coords, (S**2 / np.sum(S**2))[:2]


def along(model: PyTree, directions: list[PyTree], coeffs) -> PyTree:
    """Move a model along directions.

    **Arguments:**

    - `model`: any Equinox model.
    - `directions`: directions shaped like its trainable leaves.
    - `coeffs`: one coefficient c_k per direction.

    **Returns:**

    ``model`` moved to θ + Σ_k c_k d_k (its static parts unchanged).
    """
    params, static = eqx.partition(model, eqx.is_inexact_array)
    for d, c in zip(directions, coeffs):
        params = jax.tree.map(lambda p, x: p + c * x, params, d)
    return eqx.combine(params, static)
