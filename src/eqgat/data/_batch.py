"""The batch a model reads (``Batch``: JAX arrays with a leading batch axis) and its NumPy
form in dm-clrs' precision (``Arrays``), with the seeds their samplers draw from."""

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Shaped


#: Largest seed eqgat accepts (any non-negative 63-bit integer).
MAX_SEED = 2**63 - 1


def derive_seed(seed: int, *path: int) -> int:
    """A 32-bit sampler seed for stream ``path`` (e.g. graph size, distribution) of
    ``seed``, any integer in [0, 2**63 - 1]: ``numpy.random.SeedSequence([seed, *path])``.
    Distinct paths give independent streams; dm-clrs' samplers take seeds below 2**32."""
    if not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, 2**63 - 1], got {seed!r}")
    return int(np.random.SeedSequence([int(seed), *map(int, path)]).generate_state(1)[0])


class Batch(eqx.Module):
    """A batch of graphs of one size: probe arrays with a leading batch axis ``b``.
    ``batch[idx]`` selects graphs; ``batch_size``, ``nb_nodes`` and ``trace_length`` (T)
    read its shape; ``trimmed()`` cuts the time axis to the longest trace.

    **Arguments:**

    - `inputs`: input arrays by probe name, ``[b, ...]`` (node ``[b, n]``, edge
      ``[b, i, j]``).
    - `hints`: hint arrays by probe name, ``[b, T, ...]``, padded in time.
    - `outputs`: output arrays by probe name, ``[b, ...]``.
    - `length`: ``[b]``, the true number of hint steps of each graph.
    - `algorithm`: the algorithm's name (static).

    Pointers are node indices stored as floats, as in dm-clrs.
    """

    inputs: dict[str, Shaped[Array, "b ..."]]
    hints: dict[str, Shaped[Array, "b T ..."]]
    outputs: dict[str, Shaped[Array, "b ..."]]
    length: Float[Array, " b"]
    algorithm: str = eqx.field(static=True)

    @property
    def batch_size(self) -> int:
        return self.length.shape[0]

    @property
    def nb_nodes(self) -> int:
        return self.inputs["pos"].shape[1]

    @property
    def trace_length(self) -> int:
        return next(iter(self.hints.values())).shape[1]

    def __getitem__(self, idx) -> "Batch":
        """The graphs at ``idx`` (an int keeps a batch axis of 1)."""
        if isinstance(idx, int):
            idx = slice(idx, idx + 1)
        pick = lambda d: {k: v[idx] for k, v in d.items()}
        return Batch(pick(self.inputs), pick(self.hints), pick(self.outputs), self.length[idx], self.algorithm)

    def trimmed(self) -> "Batch":
        """The batch with its time axis cut to its longest trace. Predictions, losses and
        scores are unchanged (steps past every graph's length are masked out); a fixed
        evaluation batch then runs no padding steps."""
        T = max(2, int(np.max(np.asarray(self.length))))
        return Batch(self.inputs, {k: v[:, :T] for k, v in self.hints.items()}, self.outputs, self.length, self.algorithm)


class Arrays(NamedTuple):
    """A batch as NumPy arrays in dm-clrs' own precision (float64), laid out as ``Batch``
    (hints ``[b, T, ...]``): what ``verify`` reads ground truth from."""

    inputs: dict[str, np.ndarray]
    hints: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    lengths: np.ndarray


def to_batch(algorithm: str, arrays: Arrays, dtype=np.float32) -> Batch:
    """``arrays`` as a ``Batch`` of JAX arrays of ``dtype`` (float64 needs ``jax_enable_x64``)."""
    conv = lambda d: {k: jnp.asarray(np.asarray(v, dtype=dtype)) for k, v in d.items()}  # noqa: E731
    return Batch(conv(arrays.inputs), conv(arrays.hints), conv(arrays.outputs),
                 jnp.asarray(np.asarray(arrays.lengths, dtype=dtype)), algorithm)


def concat(arrays: list[Arrays]) -> Arrays:
    """Graphs of one size from several ``Arrays`` in one, hints zero-padded to the longest time axis."""
    T = max(next(iter(a.hints.values())).shape[1] for a in arrays)
    pad = lambda x: np.pad(x, [(0, 0), (0, T - x.shape[1])] + [(0, 0)] * (x.ndim - 2))  # noqa: E731
    cat = lambda dicts, f=lambda x: x: {k: np.concatenate([f(d[k]) for d in dicts]) for k in dicts[0]}  # noqa: E731
    return Arrays(cat([a.inputs for a in arrays]), cat([a.hints for a in arrays], pad),
                  cat([a.outputs for a in arrays]), np.concatenate([a.lengths for a in arrays]))
