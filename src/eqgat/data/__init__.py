"""Fixed-shape CLRS data for eqgat models.

A thin adapter over dm-clrs samplers. Hints are padded in time to a bucket
(``Algorithm.time_bucket``: the algorithm's ``trace_bound(n)`` where it has one) and
masked by ``length``, so a model compiles once per graph size rather than once per batch.

Sampling needs no TensorFlow: ``eqgat.data.samplers`` reproduces dm-clrs' samplers draw for
draw; dm-clrs itself (and so TensorFlow) is imported only with ``backend="clrs"``, which
needs the extra ``pip install 'eqgat[clrs]'``.
"""

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..probes import CLRS30
from ..algorithms import get_algorithm, get_spec, time_bucket
from ._batch import MAX_SEED as MAX_SEED
from ._batch import Arrays as Arrays
from ._batch import Batch as Batch
from ._batch import concat as concat
from ._batch import derive_seed as derive_seed
from ._batch import to_batch as to_batch

#: Edge probabilities of the graphs dm-clrs' training pipeline samples (``run.py``).
TRAIN_P = tuple(0.1 + 0.1 * i for i in range(9))


def clrs_arrays(algorithm: str, features: Any, outputs: Any = (), *, trace_length: int | None = None) -> Arrays:
    """``Arrays`` (float64) from a ``clrs.Features`` (and optionally ``Feedback.outputs``).

    dm-clrs stores hints time-major ``[T, b, ...]``; they become ``[b, T', ...]`` with
    ``T'`` = ``trace_length`` (default: the features' own T), zero-padded.
    """
    spec = {p.name: p for p in get_spec(algorithm)}
    f64 = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
    inputs = {dp.name: f64(dp.data) for dp in features.inputs}
    T = int(np.asarray(features.hints[0].data).shape[0])
    Tp = T if trace_length is None else trace_length
    if Tp < T:
        raise ValueError(f"trace length {T} exceeds the time bucket {Tp}")
    hints = {}
    for dp in features.hints:
        x = np.moveaxis(f64(dp.data), 0, 1)
        pad = [(0, 0), (0, Tp - T)] + [(0, 0)] * (x.ndim - 2)
        hints[dp.name] = np.pad(x, pad)
    outs = {dp.name: f64(dp.data) for dp in outputs}
    names = set(inputs) | set(hints) | set(outs)
    if unknown := names - set(spec):
        raise ValueError(f"probes {sorted(unknown)} are not in the {algorithm} spec")
    b = next(iter(inputs.values())).shape[0]
    if b and inputs["pos"].ndim == 1:
        raise ValueError("single-node graphs are squeezed by dm-clrs batching; build them with eqgat.data.from_graph")
    return Arrays(inputs, hints, outs, f64(features.lengths))


def from_clrs(algorithm: str, features: Any, outputs: Any = (), *, trace_length: int | None = None,
              dtype=np.float32) -> Batch:
    """A ``Batch`` of ``dtype`` from a ``clrs.Features`` (and optionally the
    ``Feedback.outputs``); see ``clrs_arrays``."""
    return to_batch(algorithm, clrs_arrays(algorithm, features, outputs, trace_length=trace_length), dtype)


def _build_sampler(clrs, algorithm: str, **kw):
    """dm-clrs' own sampler of ``algorithm`` when dm-clrs has the algorithm with the same
    probes; otherwise dm-clrs' sampler of its kind of graph driving the registered
    reference trace (``eqgat.data.fork.build_sampler``)."""
    from . import fork

    theirs = clrs.SPECS.get(algorithm)
    if theirs is not None and dict(theirs) == fork.clrs_spec(get_algorithm(algorithm)):
        return clrs.build_sampler(algorithm, **kw)[0]
    return fork.build_sampler(algorithm, **kw)


#: Where sampled data come from: eqgat's TensorFlow-free reproduction of dm-clrs'
#: samplers (``eqgat.data.samplers``, the default; the same graphs and traces for the same seed)
#: or dm-clrs itself (``"clrs"``, imports TensorFlow; for checks).
BACKENDS = ("numpy", "clrs")


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown data backend {backend!r}; use one of {', '.join(BACKENDS)}")


def _pad_time(arrays: Arrays, T: int) -> Arrays:
    """``arrays`` with hints zero-padded (never cut) to T steps."""
    t = next(iter(arrays.hints.values())).shape[1]
    if T < t:
        raise ValueError(f"trace length {t} exceeds the time bucket {T}")
    pad = lambda x: np.pad(x, [(0, 0), (0, T - t)] + [(0, 0)] * (x.ndim - 2))  # noqa: E731
    return arrays._replace(hints={k: pad(v) for k, v in arrays.hints.items()})


def _bucketed(arrays: Arrays, algorithm: str, n: int, trace_length: int | None) -> Arrays:
    """``arrays`` padded to ``trace_length``, or to ``time_bucket`` of their time axis."""
    T = next(iter(arrays.hints.values())).shape[1]
    return _pad_time(arrays, trace_length or time_bucket(algorithm, n, T))


def _draw(algorithm: str, backend: str, **kw):
    """A sampler of ``backend`` and a function drawing ``Arrays`` from it (``batch_size``
    None: the whole fixed dataset), hints as long as the sampler pads them."""
    _check_backend(backend)
    if backend == "numpy":
        from .samplers import NumpySampler

        sampler = NumpySampler(algorithm, **kw)

        def draw(batch_size=None):
            return Arrays(*sampler.next(batch_size))
    else:
        from .._extras import import_clrs

        clrs = import_clrs(needed_by='backend="clrs"')  # heavy (TensorFlow)
        sampler = _build_sampler(clrs, algorithm, **kw)

        def draw(batch_size=None):
            fb = sampler.next(batch_size)
            return clrs_arrays(algorithm, fb.features, fb.outputs)

    draw.sampler = sampler  # its state is what a resumed training run restores (``Sampler.state``)
    return draw


class Sampler:
    """Batches of fresh graphs of ``nb_nodes`` nodes, sampled on the fly as dm-clrs samples
    them (``backend``: see ``BACKENDS``).

    ``seed`` (below 2**32; see ``derive_seed``) seeds the graph sampler and a NumPy
    generator (random positions: dm-clrs' ``random_pos``, sorted uniforms, rounded to
    float32 so that both precisions see the same ids).
    """

    def __init__(self, algorithm: str, nb_nodes: int, batch_size: int, *, seed: int,
                 random_pos: bool = True, p: tuple[float, ...] = TRAIN_P,
                 trace_length: int | None = None, warm_up: bool = True, backend: str = "numpy"):
        get_spec(algorithm)
        if not isinstance(nb_nodes, (int, np.integer)) or nb_nodes < 2:
            raise ValueError(f"nb_nodes must be an integer >= 2 for sampled graphs, got {nb_nodes!r}")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
            raise ValueError(f"seed must be an integer in [0, 2**32 - 1] (dm-clrs' samplers), got {seed!r}; "
                             "eqgat.data.derive_seed maps any 63-bit seed there")
        self.algorithm, self.nb_nodes, self.batch_size = algorithm, nb_nodes, batch_size
        self.trace_length = trace_length
        self.random_pos = random_pos
        self._rng = np.random.default_rng(seed)
        # dm-clrs' on-the-fly sampler first draws 1000 graphs to learn the longest trace;
        # eqgat pads to its own time bucket, so ``warm_up=False`` skips that (the graphs
        # drawn then differ; training keeps the warm-up so earlier runs reproduce)
        self._draw = _draw(algorithm, backend, num_samples=-1, length=nb_nodes, seed=seed, p=p,
                           track_max_steps=warm_up)

    def next_arrays(self) -> Arrays:
        """The next batch as float64 ``Arrays`` (dm-clrs' own values)."""
        arrays = _bucketed(self._draw(self.batch_size), self.algorithm, self.nb_nodes, self.trace_length)
        if self.random_pos:
            b, n = arrays.inputs["pos"].shape
            pos = np.sort(self._rng.uniform(size=(b, n)), axis=1).astype(np.float32).astype(np.float64)
            arrays = arrays._replace(inputs={**arrays.inputs, "pos": pos})
        return arrays

    def state(self) -> dict:
        """Everything that decides the batches still to come, as JSON-ready values: the graph
        sampler's ``RandomState`` and padding tracker, and the random ids' generator
        (``set_state`` restores it, so a resumed run draws what an uninterrupted one would)."""
        graphs = self._draw.sampler
        if not hasattr(graphs, "state"):
            raise NotImplementedError("only the numpy backend's samplers can save their state")
        return {"graphs": graphs.state(), "pos": self._rng.bit_generator.state}

    def set_state(self, state: dict) -> None:
        """Continue from ``state`` (``Sampler.state`` of a sampler with the same settings)."""
        self._draw.sampler.set_state(state["graphs"])
        self._rng.bit_generator.state = state["pos"]

    def next(self, dtype=np.float32) -> Batch:
        """The next batch, as JAX arrays of ``dtype``."""
        return to_batch(self.algorithm, self.next_arrays(), dtype)

    def __iter__(self) -> Iterator[Batch]:
        while True:
            yield self.next()


def clrs30_split(algorithm: str, split: str = "test", *, length: int | None = None,
                 trace_length: int | None = None, backend: str = "numpy") -> Batch:
    """The CLRS-30 ``split`` ('train', 'val' or 'test') regenerated with dm-clrs' own
    sampler seed, size and sample count (no download needed); ``length`` draws the same
    split (seed, sample count) at another graph size."""
    get_spec(algorithm)
    if split not in CLRS30:
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(CLRS30)}")
    cfg = CLRS30[split]
    n = cfg["length"] if length is None else length
    if n < 2:
        raise ValueError(f"a {split} split needs graphs of at least 2 nodes, got length {n}")
    arrays = _draw(algorithm, backend, num_samples=cfg["num_samples"], length=n, seed=cfg["seed"])()
    return to_batch(algorithm, _bucketed(arrays, algorithm, n, trace_length))


def sample(algorithm: str, nb_nodes: int, batch_size: int = 32, *, seed: int) -> Batch:
    """Graphs of the test distribution with their reference traces: edge probability
    0.5, ids i/n, drawn as dm-clrs draws them (``eqgat.data.samplers``; no TensorFlow).

    **Arguments:**

    - `algorithm`: a registered algorithm with a reference trace (``eqgat.algorithms()``).
    - `nb_nodes`: the graphs' size (at least 2).
    - `batch_size`: how many graphs.
    - `seed`: the sampler's seed (below 2**32; ``derive_seed`` maps larger ones).

    **Returns:**

    An ``eqgat.Batch``: inputs, hints padded in time, outputs and trace lengths.
    """
    return Sampler(algorithm, nb_nodes, batch_size, seed=seed, random_pos=False, p=(0.5,)).next()


#: ``sample``'s earlier name.
sample_graphs = sample


#: What an evaluation batch can be drawn from: dm-clrs' CLRS-30 splits, or ``sampler``:
#: fresh test-distribution graphs (edge probability 0.5, ids i/n).
EVAL_SPLITS = (*CLRS30, "sampler")

#: Graph size and count of ``sampler`` evaluation batches unless asked otherwise.
SAMPLER_DEFAULTS = {"length": 16, "samples": 32, "seed": 0}


def evaluation_batch(algorithm: str, split: str = "test", *, length: int | None = None,
                     samples: int | None = None, seed: int | None = None) -> Batch:
    """The one way eqgat chooses the graphs a model is evaluated on.

    A CLRS-30 split ('train', 'val' or 'test') is regenerated with dm-clrs' own sampler
    seed and sample count (``clrs30_split``), at its own graph size or ``length``;
    ``samples`` and ``seed`` are the split's own and cannot be given. ``split="sampler"``
    draws ``samples`` test-distribution graphs of ``length`` nodes with sampler seed
    ``seed`` (``sample_graphs``; defaults in ``SAMPLER_DEFAULTS``: 32 graphs of 16 nodes,
    seed 0). The same arguments always give the same batch.

    **Arguments:**

    - ``algorithm``: the CLRS algorithm.
    - ``split``: one of ``EVAL_SPLITS``.
    - ``length``: the graph size (default: the split's own; ``sampler``: 16).
    - ``samples``: graphs in a ``sampler`` batch (default 32).
    - ``seed``: the ``sampler``'s seed (default 0; e.g. ``CLRS30["test"]["seed"]`` for
      graphs drawn like the test split's at another size).

    **Returns:**

    A ``Batch`` (time axis padded to the algorithm's bucket for that size).
    """
    if split not in EVAL_SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(EVAL_SPLITS)}")
    if split in CLRS30:
        if samples is not None or seed is not None:
            raise ValueError(f"the CLRS-30 {split} split has its own sample count and seed: give samples and seed "
                             "only with split='sampler'")
        return clrs30_split(algorithm, split, length=length)
    return sample_graphs(algorithm, SAMPLER_DEFAULTS["length"] if length is None else length,
                         SAMPLER_DEFAULTS["samples"] if samples is None else samples,
                         seed=SAMPLER_DEFAULTS["seed"] if seed is None else seed)


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


def graph_arrays(algorithm: str, A: Any, *, source: int = 0, trace_length: int | None = None) -> Arrays:
    """``Arrays`` (float64) of one hand-made graph with its ground-truth trace (dm-clrs'
    algorithm, as ``eqgat.data.samplers`` reproduces it; no TensorFlow).

    ``A`` is the n×n adjacency (for Bellman-Ford, the edge weights; 0 = no edge).
    Single-node graphs are supported here (dm-clrs' batching squeezes them).
    """
    alg = get_algorithm(algorithm)
    spec = alg.spec
    A = check_graph(A, weighted=alg.weighted)
    n = A.shape[0]
    inputs, hints, outputs = alg.trace(A, source)
    T = len(hints)
    Tp = trace_length or alg.time_bucket(n, T)
    if Tp < T:
        raise ValueError(f"trace length {T} exceeds the time bucket {Tp}")
    hint_arrays = {}
    for p in spec:
        if p.stage == "hint":
            x = np.stack([np.asarray(h[p.name], np.float64) for h in hints])[None]
            hint_arrays[p.name] = np.pad(x, [(0, 0), (0, Tp - T)] + [(0, 0)] * (x.ndim - 2))
    batched = lambda d: {k: np.asarray(v, np.float64)[None] for k, v in d.items()}  # noqa: E731
    return Arrays(batched(inputs), hint_arrays, batched(outputs), np.array([float(T)]))


def from_graph(algorithm: str, A: Any, *, source: int = 0, trace_length: int | None = None,
               dtype=np.float32) -> Batch:
    """A batch of one hand-made graph with its ground-truth trace (the algorithm's
    reference: dm-clrs', as ``eqgat.data.samplers`` reproduces it; no TensorFlow).

    **Arguments:**

    - `algorithm`: a registered algorithm with a reference trace.
    - `A`: the n×n adjacency ``[i, j]`` (for weighted algorithms the edge weights; 0 = no
      edge). Single-node graphs work here (dm-clrs' batching squeezes them).
    - `source`: the source node, for algorithms with one.
    - `trace_length`: pad the hints to this many steps (default: the algorithm's time
      bucket for n).
    - `dtype`: the arrays' dtype (float64 needs ``jax_enable_x64``).

    **Returns:**

    A ``Batch`` with ``b = 1``.
    """
    return to_batch(algorithm, graph_arrays(algorithm, A, source=source, trace_length=trace_length), dtype)
