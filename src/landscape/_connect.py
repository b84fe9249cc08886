"""Low-loss curves between two models (Garipov et al. 2018, "Loss surfaces, mode
connectivity, and fast ensembling of DNNs"), for any Equinox model and any
``loss_fn(model) -> scalar``.

A ``Curve`` is a Bézier curve φ(t) = Σ_k B_k(t) θ_k of degree ``bends + 1`` whose end
points θ_0 = a and θ_{bends+1} = b are fixed; ``connect`` trains the ``bends`` control
points by minimising E_{t ~ U(0, 1)} loss(φ(t)) with optax. ``barrier`` is the height of
the loss along a curve (or the straight line) above its higher end point.
"""

from collections.abc import Callable
from math import comb

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray, PyTree
from tqdm.auto import tqdm

from ._directions import _check_same_structure, params_of


class Curve(eqx.Module):
    """A Bézier curve between two models of one architecture: ``curve(t)`` is the model at
    t ∈ [0, 1] (``t = 0``: ``a``, ``t = 1``: ``b``); ``curve.bends`` counts its control
    points between the ends. Made by ``line`` or ``connect``.

    **Arguments:**

    - `points`: the trainable leaves of the end points and the bends, in order.
    - `static`: the rest of the model (``eqx.partition``'s second half).
    """

    points: list[PyTree]
    static: PyTree

    @property
    def bends(self) -> int:
        return len(self.points) - 2

    def params_at(self, t: Float[Array, ""] | float) -> PyTree:
        """The trainable leaves at ``t`` (Bernstein weights of the points)."""
        d = len(self.points) - 1
        w = [comb(d, k) * t**k * (1 - t) ** (d - k) for k in range(d + 1)]
        return jax.tree.map(lambda *xs: sum(wk * x for wk, x in zip(w, xs)), *self.points)

    def __call__(self, t: Float[Array, ""] | float) -> PyTree:
        """**Arguments:**

        - `t`: where on the curve, in [0, 1] (traceable).

        **Returns:**

        The model at `t`: Σ_k B_k(t) θ_k (Bernstein weights of the points).
        """
        return eqx.combine(self.params_at(t), self.static)


def line(a: PyTree, b: PyTree) -> Curve:
    """The straight line between two models.

    **Arguments:**

    - `a`, `b`: two models of one architecture.

    **Returns:**

    The line from `a` to `b` as a ``Curve`` with no bends.
    """
    _check_same_structure(a, b)
    pa, static = eqx.partition(a, eqx.is_inexact_array)
    return Curve([pa, params_of(b)], static)


def connect(loss_fn: Callable[[PyTree], jax.Array], a: PyTree, b: PyTree, *, bends: int = 1, steps: int = 1000,
            key: PRNGKeyArray, lr: float = 1e-2, samples: int = 4, perturbation: float = 0.05,
            progress: bool = False) -> Curve:
    """Train a ``Curve`` from ``a`` to ``b`` with ``bends`` control points (1: Garipov et
    al.'s quadratic Bézier curve). The bends start on the straight line (evenly spaced)
    plus a Gaussian perturbation drawn from ``key``, leaf by leaf of norm ``perturbation``
    times the larger of that leaf's norms at a and b (so a symmetric problem can leave the
    line); each of ``steps`` Adam steps (learning rate ``lr``, gradients clipped to global
    norm 1; a non-finite step is skipped) averages the loss at ``samples`` uniform t drawn
    from ``key``. The end points never move.

    **Arguments:**

    - `loss_fn`: ``model -> scalar``, traceable.
    - `a`, `b`: the end points, two models of one architecture.
    - `bends`: control points between them (1: a quadratic curve).
    - `steps`: Adam steps.
    - `key`: the bends' perturbation and the t samples.
    - `lr`: Adam's learning rate.
    - `samples`: t values averaged per step.
    - `perturbation`: the bends' start off the line, relative to each leaf's norm.
    - `progress`: show a progress bar.

    **Returns:**

    The trained ``Curve``.
    """
    if bends < 1 or steps < 0 or samples < 1:
        raise ValueError(f"bends and samples must be >= 1 and steps >= 0, got bends={bends}, samples={samples}, steps={steps}")
    straight = line(a, b)
    pa, pb = straight.points
    init_key, t_key = jax.random.split(key)
    leaves_a, tree = jax.tree.flatten(pa)
    # each leaf's perturbation is relative to that leaf's size at the ends, so a few huge
    # weights (a compiled model's) do not set the scale for every small one
    scale = [max(float(jnp.linalg.norm(x)), float(jnp.linalg.norm(y))) for x, y in zip(leaves_a, jax.tree.leaves(pb))]
    bend_points = []
    for k, bk in enumerate(jax.random.split(init_key, bends)):
        s = (k + 1) / (bends + 1)
        noise = []
        for kk, x, size in zip(jax.random.split(bk, len(leaves_a)), leaves_a, scale):
            n = jax.random.normal(kk, x.shape, x.dtype)
            noise.append(perturbation * size * n / (jnp.linalg.norm(n) + 1e-12))
        on_line = jax.tree.map(lambda x, y: (1 - s) * x + s * y, pa, pb)
        bend_points.append(jax.tree.map(jnp.add, on_line, jax.tree.unflatten(tree, noise)))
    # a step whose loss or gradient is not finite (an overflowing point of the curve) is skipped
    opt = optax.apply_if_finite(optax.chain(optax.clip_by_global_norm(1.0), optax.adam(lr)), 2**31 - 1)
    state = opt.init(bend_points)

    @eqx.filter_jit
    def step(bend_points, state, t):
        def objective(bp):
            curve = Curve([pa, *bp, pb], straight.static)
            return jnp.mean(jax.vmap(lambda ti: loss_fn(curve(ti)))(t))

        value, grads = eqx.filter_value_and_grad(objective)(bend_points)
        updates, state = opt.update(grads, state, bend_points)
        return optax.apply_updates(bend_points, updates), state, value

    for t_k in tqdm(jax.random.split(t_key, steps), disable=not progress, desc="connect", unit="step"):
        bend_points, state, _ = step(bend_points, state, jax.random.uniform(t_k, (samples,)))
    return Curve([pa, *bend_points, pb], straight.static)


@eqx.filter_jit
def _losses_along(loss_fn: Callable[[PyTree], jax.Array], curve: Curve, t: Float[Array, " points"]) -> Float[Array, " points"]:
    """``loss_fn`` at ``curve(t_i)`` for every ``t_i`` (one vmapped evaluation). One
    jitted function for every call: ``loss_fn`` (hashed by identity, as a static argument)
    and the curve's structure key its traces, so evaluating one loss along several curves
    of one shape traces once."""
    return jax.vmap(lambda ti: loss_fn(curve(ti)))(t)


def along_curve(loss_fn: Callable[[PyTree], jax.Array], curve: Curve, *, points: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """The loss along a curve.

    **Arguments:**

    - `loss_fn`: ``model -> scalar``, traceable.
    - `curve`: a ``Curve``.
    - `points`: evenly spaced t in [0, 1] (one vmapped evaluation, compiled once per loss
      function, curve shape and number of points).

    **Returns:**

    ``(t, loss)``: NumPy arrays ``[points]`` (the loss in float64).
    """
    ts = np.linspace(0.0, 1.0, points)
    values = _losses_along(loss_fn, curve, jnp.asarray(ts))
    return ts, np.asarray(values, np.float64)


def barrier(loss_fn: Callable[[PyTree], jax.Array], curve_or_pair: Curve | tuple[PyTree, PyTree], *,
            points: int = 101) -> float:
    """The loss barrier along a path.

    **Arguments:**

    - `loss_fn`: ``model -> scalar``, traceable.
    - `curve_or_pair`: a ``Curve``, or a pair ``(a, b)`` for the straight line.
    - `points`: evenly spaced t where the loss is evaluated.

    **Returns:**

    The largest loss along the path minus the larger of the two end points' losses, a
    float (0 when the path never rises above its ends).
    """
    curve = line(*curve_or_pair) if isinstance(curve_or_pair, tuple) else curve_or_pair
    _, values = along_curve(loss_fn, curve, points=points)
    return float(values.max() - max(values[0], values[-1]))
