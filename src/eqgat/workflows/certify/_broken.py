"""Deliberately broken compiled models: the changes ``certify`` must refuse (its tests and
``docs/certify.py`` use them; each is a small edit of one part of the construction)."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ...compiler import Layout
from ...nn import Model


def _with_omega(model: Model, omega: np.ndarray) -> Model:
    return eqx.tree_at(lambda m: m.processor.omega, model, jnp.asarray(omega, dtype=model.processor.omega.dtype))


def flip_smallest_omega(model: Model) -> Model:
    """The processor's smallest non-zero ω entry flipped in sign.

    **Arguments:**

    - `model`: a compiled model.

    **Returns:**

    The model with head 0's smallest non-zero ω entry (by magnitude, the first on a tie)
    negated: for BFS the id tie-break's weight (ω of the ``value`` feature, x_j).
    """
    om = np.asarray(model.processor.omega).copy()
    nz = np.flatnonzero(om[0])
    om[0, nz[np.argmin(np.abs(om[0][nz]))]] *= -1
    return _with_omega(model, om)


def without_parent_bonus(model: Model, layout: Layout) -> Model:
    """The parent bonus removed.

    **Arguments:**

    - `model`: a compiled model whose program keeps its parent (Bellman-Ford).
    - `layout`: its ``Layout``.

    **Returns:**

    The model with ω of the ``parent``, ``parent:leak`` and ``parent:cancel`` attention
    features set to 0.
    """
    om = np.asarray(model.processor.omega).copy()
    for name in ("parent", "parent:leak", "parent:cancel"):
        om[0, layout.z(name)] = 0.0
    return _with_omega(model, om)


def small_gate(model: Model, layout: Layout, factor: float = 0.25) -> Model:
    """The pointer's ``take`` gate with its M times ``factor``.

    **Arguments:**

    - `model`: a compiled model with a pointer (BFS).
    - `layout`: its ``Layout``.
    - `factor`: what the gate's terms are multiplied by (BFS: M = 2 -> 0.5).

    **Returns:**

    The model with every gate term of that row scaled: the masks in W_val, the keep and
    start flags in W_skip, the bias.
    """
    r = layout.h("pi", "take")
    cols = [layout.v("start"), model.hidden_size + layout.h("visit")]
    Wv = np.asarray(model.processor.W_val.weight).copy()
    Ws = np.asarray(model.processor.W_skip.weight).copy()
    bs = np.asarray(model.processor.W_skip.bias).copy()
    for W in (Wv, Ws):
        W[r, cols] *= factor
    bs[r] *= factor
    return eqx.tree_at(lambda m: (m.processor.W_val.weight, m.processor.W_skip.weight, m.processor.W_skip.bias),
                       model, tuple(jnp.asarray(x, dtype=jnp.float32) for x in (Wv, Ws, bs)))
