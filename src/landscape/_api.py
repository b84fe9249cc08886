"""The generic entry points: any Equinox model, any user loss ``loss_fn(model) -> scalar``.

    directions = landscape.random_directions(model, key=jax.random.key(0))
    s = landscape.surface(loss_fn, model, directions, grid=(51, 51), span=(-1.0, 1.0))
    s.save("out/surface.npz"); s = landscape.load("out/surface.npz")

Nothing here knows eqgat; the eqgat workflows (CLRS loss and score, compiled, learned and
initial models) are in ``eqgat.workflows.landscapes``, which ``python -m landscape`` runs.
"""

from collections.abc import Callable

import jax
import numpy as np
from jaxtyping import PRNGKeyArray, PyTree

from ._directions import Bias, random_direction
from ._format import Surface
from ._surface import evaluate_surface


def random_directions(model: PyTree, *, key: PRNGKeyArray, n: int = 2, bias: Bias = "zero") -> list[PyTree]:
    """``n`` Gaussian directions filter-normalised to ``model`` (Li et al. 2018).

    **Arguments:**

    - `model`: any Equinox model (its inexact arrays are the parameters).
    - `key`: split into one key per direction, each split over the leaves in pytree
      order.
    - `n`: how many directions.
    - `bias`: 1-D leaves zeroed (``"zero"``, Li et al.'s ``ignore='biasbn'``) or
      normalised as a whole (``"normalize"``).

    **Returns:**

    A list of `n` directions, each a pytree shaped like the model's trainable leaves
    (``eqx.filter(model, eqx.is_inexact_array)``).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return [random_direction(model, k, bias=bias) for k in jax.random.split(key, n)]


def surface(loss_fn: Callable[[PyTree], jax.Array], model: PyTree, directions: list[PyTree], *,
            grid: tuple[int, int] = (51, 51), span: tuple[float, float] = (-1.0, 1.0), chunk: int = 16,
            progress: bool = False, devices: int | None = None) -> Surface:
    """``loss_fn`` on the ``grid`` of ``model + a·d1 + b·d2``.

    **Arguments:**

    - `loss_fn`: ``model -> scalar``, traceable (it is vmapped over grid points).
    - `model`: any Equinox model, the centre of the grid.
    - `directions`: two directions ``[d1, d2]`` (``random_directions``).
    - `grid`: points along a and b.
    - `span`: (low, high) of both a and b.
    - `chunk`: points evaluated in one vmapped call (one compile for the whole grid).
    - `progress`: show a progress bar.
    - `devices`: spread each chunk over at most this many local devices (default: all).

    **Returns:**

    A ``Surface``: ``values[i, j]`` ``[len(a), len(b)]`` at ``coords = (a, b)``, with the
    settings in ``meta``.
    """
    if len(directions) != 2:
        raise ValueError(f"a surface needs 2 directions, got {len(directions)}")
    if len(grid) != 2 or min(grid) < 1:
        raise ValueError(f"grid must be two positive sizes, got {grid}")
    lo, hi = span
    if not lo < hi:
        raise ValueError(f"span must be (low, high) with low < high, got {span}")
    a, b = (np.linspace(lo, hi, k) for k in grid)
    values = evaluate_surface(model, lambda m: {"loss": loss_fn(m)}, directions[0], directions[1], a, b,
                              chunk=chunk, progress=progress, devices=devices)["loss"]
    return Surface(values, (a, b), {"grid": list(grid), "span": [lo, hi], "chunk": chunk})
