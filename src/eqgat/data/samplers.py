"""CLRS data without TensorFlow: dm-clrs 2.0.3's graph samplers, reproduced in NumPy
draw for draw, driving any registered algorithm's reference trace (``eqgat.algorithms``:
BFS, Bellman-Ford and DFS as dm-clrs computes them, the fork's ``bfs_seq`` and
``dfs_light``, and a user's own).

The same seed gives the same graphs, sources, traces and padding as ``clrs.build_sampler``
(``tests/test_samplers.py`` checks it against dm-clrs): one ``numpy.random.RandomState``
per sampler, drawn in dm-clrs' order (the edge probability, the Erdős–Rényi matrix, the
weights, the source), the same 1000-graph warm-up that fixes the padded trace length when
sampling on the fly, and a fixed dataset (drawn at construction) for ``num_samples > 0``.
``import clrs`` (TensorFlow, ~5 s) is never needed; ``eqgat.data`` uses this by default
and dm-clrs behind ``backend="clrs"``.
"""

import numpy as np

from ..probes import Location, Stage, Type
from ..algorithms import Trace, get_algorithm


class NumpySampler:
    """dm-clrs' ``build_sampler(algorithm, num_samples, length, seed, p, ...)`` without
    TensorFlow. ``next(batch_size)`` returns ``(inputs, hints, outputs, lengths)`` with a
    leading batch axis (hints ``[b, T, ...]``, T padded to the longest trace seen, as
    dm-clrs pads); ``next()`` returns the whole fixed dataset (``num_samples > 0``)."""

    def __init__(self, algorithm: str, *, num_samples: int, length: int, seed: int, p=(0.5,),
                 track_max_steps: bool = True, low: float = 0.0, high: float = 1.0):
        self._alg = get_algorithm(algorithm)
        if not self._alg.sampled:
            raise ValueError(f"{algorithm!r} has no reference trace (Algorithm.reference), so nothing to sample")
        self.algorithm, self.length, self.p, self.low, self.high = algorithm, length, tuple(p), low, high
        self._spec = self._alg.spec
        self._rng = np.random.RandomState(seed)
        self._num_samples, self._track = num_samples, track_max_steps
        self.max_steps = 0
        if num_samples < 0:
            if track_max_steps:  # dm-clrs' warm-up: 1000 graphs fix the padded trace length
                self.max_steps = max(len(self._trace()[1]) for _ in range(1000))
        else:
            self._dataset = self._batch([self._trace() for _ in range(num_samples)], 0)

    def _graph(self) -> list:
        """One sample's arguments, drawn in dm-clrs' order."""
        directed, weighted, source = self._alg.directed, self._alg.weighted, self._alg.has_source
        n, rng = self.length, self._rng
        p = rng.choice(self.p)
        mat = rng.binomial(1, p, size=(n, n))
        if not directed:
            mat *= np.transpose(mat)
        if weighted:
            w = rng.uniform(low=self.low, high=self.high, size=(n, n))
            if not directed:
                w *= np.transpose(w)
                w = np.sqrt(w + 1e-3)
            mat = mat.astype(float) * w
        return [mat, rng.choice(n)] if source else [mat]

    def _trace(self) -> Trace:
        return self._alg.trace(*self._graph())

    def _batch(self, traces: list[Trace], min_steps: int):
        T = max([min_steps] + [len(h) for _, h, _ in traces])
        inputs = {k: np.stack([t[0][k] for t in traces]).astype(np.float64) for k in traces[0][0]}
        outputs = {k: np.stack([t[2][k] for t in traces]).astype(np.float64) for k in traces[0][2]}
        hints = {}
        for p in self._spec:
            if p.stage != Stage.HINT:
                continue
            shape = {Location.NODE: (self.length,), Location.EDGE: (self.length,) * 2, Location.GRAPH: ()}[p.location]
            shape += (p.dim,) if p.type == Type.CATEGORICAL else ()
            x = np.zeros((len(traces), T) + shape)
            for b, (_, h, _) in enumerate(traces):
                x[b, : len(h)] = np.stack([step[p.name] for step in h])
            hints[p.name] = x
        lengths = np.array([float(len(h)) for _, h, _ in traces])
        return inputs, hints, outputs, lengths

    def next(self, batch_size: int | None = None):
        if not batch_size:
            if self._num_samples < 0:
                raise ValueError("an on-the-fly sampler (num_samples=-1) needs a batch size")
            return self._dataset
        if self._num_samples >= 0:
            raise NotImplementedError("batches drawn from a fixed dataset are not needed by eqgat")
        batch = self._batch([self._trace() for _ in range(batch_size)], self.max_steps if self._track else 0)
        if self._track:
            self.max_steps = max(self.max_steps, batch[1][next(iter(batch[1]))].shape[1])
        return batch

    def state(self) -> dict:
        """The ``RandomState`` (as JSON-ready values) and the padded trace length so far."""
        name, keys, pos, has_gauss, gauss = self._rng.get_state()
        return {"rng": [name, keys.tolist(), int(pos), int(has_gauss), float(gauss)], "max_steps": int(self.max_steps)}

    def set_state(self, state: dict) -> None:
        """Continue from ``state`` (``NumpySampler.state``)."""
        name, keys, pos, has_gauss, gauss = state["rng"]
        self._rng.set_state((name, np.asarray(keys, np.uint32), pos, has_gauss, gauss))
        self.max_steps = state["max_steps"]
