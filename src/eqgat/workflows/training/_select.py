"""Model selection: ``TrainConfig.select="best_val"`` keeps each seed's parameters of its
best validation score, as dm-clrs' ``run.py`` does."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


class BestValidation:
    """``select="best_val"``: each seed's parameters at its best validation score so far
    (the first of equal scores, as dm-clrs' ``run.py`` keeps them), with that score and
    step; inactive (``models`` None) under ``select="last"``."""

    def __init__(self, models, scores: list, steps: list):
        self.models, self.scores, self.steps = models, list(scores), list(steps)

    def update(self, models, scores: list[float], step: int) -> None:
        better = np.array([b is None or s > b for s, b in zip(scores, self.scores)])
        if not better.any():
            return
        keep = jnp.asarray(better)
        pick = lambda new, old: jnp.where(keep.reshape((-1,) + (1,) * (new.ndim - 1)), new, old)  # noqa: E731
        new, static = eqx.partition(models, eqx.is_array)
        self.models = eqx.combine(jax.tree.map(pick, new, eqx.filter(self.models, eqx.is_array)), static)
        for k in np.flatnonzero(better):
            self.scores[k], self.steps[k] = float(scores[k]), step

    def selected(self, last, steps: int):
        """The models a run keeps and, under best_val, each seed's step (a seed never
        validated keeps its last step's)."""
        if self.models is None:
            return last, None
        if any(s is None for s in self.steps):
            self.update(last, [-np.inf if s is None else np.inf for s in self.steps], steps)
        return self.models, [int(s) for s in self.steps]
