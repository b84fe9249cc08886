"""Fixed-shape CLRS data for eqgat models.

A thin adapter over dm-clrs samplers. Hints are padded in time to a bucket
(``max_trace_length(algorithm, n)`` by default) and masked by ``length``, so a model
compiles once per graph size rather than once per batch.

dm-clrs (and so TensorFlow) is imported only when a function here samples data.
"""

from collections.abc import Iterator
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Shaped

from ._spec import CLRS30, Location, Stage, get_spec, max_trace_length

#: Edge probabilities of the graphs dm-clrs' training pipeline samples (``run.py``).
TRAIN_P = tuple(0.1 + 0.1 * i for i in range(9))


class Batch(eqx.Module):
    """A batch of graphs of one size: probe arrays with a leading batch axis ``b``.

    ``inputs``/``outputs``: ``[b, ...]``; ``hints``: ``[b, T, ...]`` padded in time;
    ``length``: ``[b]``, the true number of hint steps of each graph. Pointers are node
    indices stored as float32, as in dm-clrs.
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


def _as_f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def from_clrs(algorithm: str, features: Any, outputs: Any = (), *, trace_length: int | None = None) -> Batch:
    """A ``Batch`` from a ``clrs.Features`` (and optionally the ``Feedback.outputs``).

    dm-clrs stores hints time-major ``[T, b, ...]``; they become ``[b, T', ...]`` with
    ``T'`` = ``trace_length`` (default: the features' own T), zero-padded.
    """
    spec = {p.name: p for p in get_spec(algorithm)}
    inputs = {dp.name: _as_f32(dp.data) for dp in features.inputs}
    T = int(np.asarray(features.hints[0].data).shape[0])
    Tp = T if trace_length is None else trace_length
    if Tp < T:
        raise ValueError(f"trace length {T} exceeds the time bucket {Tp}")
    hints = {}
    for dp in features.hints:
        x = np.moveaxis(_as_f32(dp.data), 0, 1)
        pad = [(0, 0), (0, Tp - T)] + [(0, 0)] * (x.ndim - 2)
        hints[dp.name] = np.pad(x, pad)
    outs = {dp.name: _as_f32(dp.data) for dp in outputs}
    names = set(inputs) | set(hints) | set(outs)
    if unknown := names - set(spec):
        raise ValueError(f"probes {sorted(unknown)} are not in the {algorithm} spec")
    b = next(iter(inputs.values())).shape[0]
    if b and inputs["pos"].ndim == 1:
        raise ValueError("single-node graphs are squeezed by dm-clrs batching; build them with eqgat.data.from_graph")
    to_jnp = lambda d: {k: jnp.asarray(v) for k, v in d.items()}
    return Batch(to_jnp(inputs), to_jnp(hints), to_jnp(outs), jnp.asarray(_as_f32(features.lengths)), algorithm)


def _random_pos(batch: Batch, rng: np.random.Generator) -> Batch:
    """dm-clrs' ``random_pos``: replace ``pos`` by sorted uniform random numbers."""
    b, n = batch.inputs["pos"].shape
    pos = jnp.asarray(np.sort(rng.uniform(size=(b, n)), axis=1).astype(np.float32))
    return eqx.tree_at(lambda bt: bt.inputs["pos"], batch, pos)


class Sampler:
    """Batches of fresh graphs of ``nb_nodes`` nodes, sampled by dm-clrs on the fly.

    ``seed`` seeds dm-clrs' sampler (graphs) and a NumPy generator (random positions).
    """

    def __init__(self, algorithm: str, nb_nodes: int, batch_size: int, *, seed: int,
                 random_pos: bool = True, p: tuple[float, ...] = TRAIN_P,
                 trace_length: int | None = None):
        import clrs  # heavy (TensorFlow); only data generation needs it

        get_spec(algorithm)
        if nb_nodes < 2:
            raise ValueError(f"nb_nodes must be >= 2 for sampled graphs, got {nb_nodes}")
        self.algorithm, self.nb_nodes, self.batch_size = algorithm, nb_nodes, batch_size
        self.trace_length = trace_length or max_trace_length(algorithm, nb_nodes)
        self.random_pos = random_pos
        self._rng = np.random.default_rng(seed)
        self._sampler, _ = clrs.build_sampler(algorithm, num_samples=-1, length=nb_nodes, seed=seed, p=p)

    def next(self) -> Batch:
        fb = self._sampler.next(self.batch_size)
        batch = from_clrs(self.algorithm, fb.features, fb.outputs, trace_length=self.trace_length)
        return _random_pos(batch, self._rng) if self.random_pos else batch

    def __iter__(self) -> Iterator[Batch]:
        while True:
            yield self.next()


def clrs30_split(algorithm: str, split: str = "test", *, trace_length: int | None = None) -> Batch:
    """The CLRS-30 ``split`` ('train', 'val' or 'test') regenerated with dm-clrs' own
    sampler seed, size and sample count (no download needed)."""
    import clrs

    get_spec(algorithm)
    if split not in CLRS30:
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(CLRS30)}")
    cfg = CLRS30[split]
    sampler, _ = clrs.build_sampler(algorithm, num_samples=cfg["num_samples"], length=cfg["length"], seed=cfg["seed"])
    fb = sampler.next()
    T = trace_length or max_trace_length(algorithm, cfg["length"])
    return from_clrs(algorithm, fb.features, fb.outputs, trace_length=T)


def check_graph(A: Any, *, weighted: bool = False) -> np.ndarray:
    """``A`` as a float32 n×n array, or a ``ValueError`` saying what is wrong with it."""
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"adjacency must be a square n×n matrix, got shape {A.shape}")
    if A.shape[0] < 1:
        raise ValueError("a graph needs at least one node")
    if not np.all(np.isfinite(A)):
        what = "edge weights" if weighted else "adjacency"
        raise ValueError(f"{what} contain NaN or infinite values")
    if np.any(A < 0):
        raise ValueError("edge weights must be non-negative")
    return A


def from_graph(algorithm: str, A: Any, *, source: int = 0, trace_length: int | None = None) -> Batch:
    """A batch of one hand-made graph with its dm-clrs ground-truth trace.

    ``A`` is the n×n adjacency (for Bellman-Ford, the edge weights; 0 = no edge).
    Single-node graphs are supported here (dm-clrs' batching squeezes them).
    """
    from clrs._src import algorithms, probing  # heavy: only here
    import clrs

    spec = get_spec(algorithm)
    A = check_graph(A, weighted=algorithm == "bellman_ford")
    n = A.shape[0]
    if algorithm != "dfs" and not 0 <= source < n:
        raise ValueError(f"source {source} is not a node of a graph with {n} nodes")
    fn = getattr(algorithms, algorithm)
    _, probes = fn(A, source) if algorithm != "dfs" else fn(A)
    inp, outp, hint = probing.split_stages(probes, clrs.SPECS[algorithm])
    T = np.asarray(hint[0].data).shape[0]
    Tp = trace_length or max(T, max_trace_length(algorithm, n))
    kinds = {p.name: p for p in spec}

    def batched(dp, time: bool):
        # split_stages gives [1, ...] or, for hints, [T, 1, ...]; a single node graph may
        # come squeezed, so restore the probe's full shape explicitly.
        probe = kinds[dp.name]
        shape = {Location.NODE: (n,), Location.EDGE: (n, n), Location.GRAPH: ()}[probe.location]
        shape += (probe.dim,) if probe.type == "categorical" else ()
        x = _as_f32(dp.data)
        if time:
            x = np.moveaxis(x.reshape((T, 1) + shape), 0, 1)
            return jnp.asarray(np.pad(x, [(0, 0), (0, Tp - T)] + [(0, 0)] * len(shape)))
        return jnp.asarray(x.reshape((1,) + shape))

    return Batch(
        {dp.name: batched(dp, False) for dp in inp},
        {dp.name: batched(dp, True) for dp in hint},
        {dp.name: batched(dp, False) for dp in outp},
        jnp.asarray([float(T)], dtype=jnp.float32),
        algorithm,
    )
