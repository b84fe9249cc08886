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

Speed: only the random draws are made graph by graph (as few and as cheap NumPy calls as
give the same numbers, see ``Graphs``); the rest, the matrices and the traces
(``Algorithm.trace_batch``), is array operations over the whole batch, and for small
graphs over up to 4 batches drawn ahead (``_AHEAD_PAIRS``). ``benchmarks/sampling.py``
times it against dm-clrs.
"""

import functools
import math

import numpy as np

from ..algorithms import BatchTrace, get_algorithm

#: The largest value ``RandomState.random_sample`` draws: (2**53 - 1) / 2**53.
_MAX_UNIFORM = 1.0 - 2.0**-53

#: Graphs drawn and traced together by the warm-up (1000 in all; a chunk bounds its
#: memory: DFS hints at n=64 take ~1 MB a graph).
_WARM_UP_CHUNK = 50

#: On the fly, small graphs are drawn and traced ahead, up to this many node pairs' worth
#: and 4 batches at a time (4 batches of 32 graphs of 16 nodes; none ahead at 32 nodes): a
#: batch of small graphs costs about what one graph costs, in NumPy calls.
_AHEAD_PAIRS = 2**15


def bernoulli_threshold(p: float) -> tuple[float, bool] | None:
    """``RandomState.binomial(1, p)`` as a threshold on one ``random_sample`` draw U:
    ``(qn, flip)`` such that the draw is ``(U > qn) != flip``; None where that is not exact.

    NumPy's legacy binomial (``legacy_random_binomial_inversion``, n = 1) draws U, returns
    0 if U <= qn = exp(log(q)), else 1 if U - qn <= px = p·qn/q, and otherwise draws again;
    for p > 1/2 it returns 1 minus the draw for 1 - p. When even the largest U passes the
    second test no draw is ever repeated, and the draw is the threshold above (true of
    every p tried, e.g. all of ``TRAIN_P``); otherwise, and for p = 0 or 1 (which NumPy may
    treat apart), None: the caller asks NumPy itself.
    """
    if not 0.0 < p < 1.0:
        return None
    flip = p > 0.5
    p_in = 1.0 - p if flip else p
    q = 1.0 - p_in
    qn = math.exp(math.log(q))  # exp(n * log(q)) with n = 1, the C library's exp and log as NumPy's
    px = (p_in * qn) / q
    return None if _MAX_UNIFORM - qn > px else (qn, flip)


def _fit_time(x: np.ndarray, T: int) -> np.ndarray:
    """Hints ``x`` ``[b, t, ...]`` cut or zero-padded to T steps: ``x`` itself when t = T,
    else a new array (``np.pad`` costs ~30 µs a call)."""
    if x.shape[1] == T:
        return x
    out = np.zeros(x.shape[:1] + (T,) + x.shape[2:])
    out[:, : min(T, x.shape[1])] = x[:, :T]
    return out


def _split(traces: BatchTrace, k: int) -> tuple[BatchTrace, BatchTrace]:
    """The first k graphs of a ``BatchTrace`` and the rest."""
    inputs, hints, outputs, lengths = traces
    parts = [({n: v[:k] for n, v in d.items()}, {n: v[k:] for n, v in d.items()}) for d in (inputs, hints, outputs)]
    return (*(a for a, _ in parts), lengths[:k]), (*(b for _, b in parts), lengths[k:])


def _joined(a: BatchTrace, b: BatchTrace) -> BatchTrace:
    """Two ``BatchTrace`` of one graph size as one, hints padded to the longer."""
    T = max(next(iter(a[1].values())).shape[1], next(iter(b[1].values())).shape[1])
    cat = lambda x, y: {n: np.concatenate([x[n], y[n]]) for n in x}  # noqa: E731
    hints = {n: np.concatenate([_fit_time(a[1][n], T), _fit_time(b[1][n], T)]) for n in a[1]}
    return cat(a[0], b[0]), hints, cat(a[2], b[2]), np.concatenate([a[3], b[3]])


class Graphs:
    """Draws the arguments of dm-clrs' graph samplers (``_random_er_graph`` and the source)
    from one ``RandomState``, the same numbers in the same order, a batch at a time.

    Per graph dm-clrs calls ``choice(p)``, ``binomial(1, p, (n, n))``, for weighted graphs
    ``uniform(low, high, (n, n))``, and for algorithms with a source ``choice(n)``. Here
    ``choice(k)`` is ``randint(k)`` (what ``choice`` calls; ``randint(1)`` draws nothing, so
    a single p is not drawn), the binomial is one ``random_sample`` thresholded
    (``bernoulli_threshold``), and ``uniform(0, 1)`` is ``random_sample`` (0 + 1·U), drawn
    with it in one call. These calls are all that runs graph by graph; symmetrisation and
    weights are applied to the batch at once.
    """

    def __init__(self, rng: np.random.RandomState, n: int, p, *, directed: bool, weighted: bool,
                 source: bool, low: float = 0.0, high: float = 1.0):
        self.rng, self.n, self.p = rng, n, tuple(float(x) for x in p)
        self.directed, self.weighted, self.source, self.low, self.high = directed, weighted, source, low, high
        thresholds = [bernoulli_threshold(x) for x in self.p]
        # per p: qn and flip (edges where (U > qn) != flip), and its graph's draw (a p
        # without an exact threshold: NumPy's binomial, 0 or 1, which qn = 1/2 keeps)
        self._qn = np.array([t[0] if t else 0.5 for t in thresholds])
        self._flip = np.array([t[1] if t else False for t in thresholds])
        self._draws = [self._graph_draw(x, t is not None) for x, t in zip(self.p, thresholds)]

    def _graph_draw(self, p: float, threshold: bool):
        """``draw()``: one graph's ``[1 or 2, n, n]`` block: the uniforms U of its
        ``binomial(1, p, (n, n))`` (or the binomial itself, without a ``threshold``) and, for
        weighted graphs, its ``uniform(low, high, (n, n))`` (one ``random_sample`` for both
        where it can: uniform(0, 1) is random_sample, 0 + 1·U)."""
        rng, shape = self.rng, (self.n, self.n)
        if not self.weighted:
            return functools.partial(rng.random_sample, (1, *shape)) if threshold else \
                (lambda: rng.binomial(1, p, (1, *shape)).astype(np.float64))
        if threshold and (self.low, self.high) == (0.0, 1.0):
            return functools.partial(rng.random_sample, (2, *shape))
        edges = rng.random_sample if threshold else functools.partial(rng.binomial, 1, p)
        return lambda: np.stack([edges(shape), rng.uniform(self.low, self.high, shape)])

    def draw(self, count: int) -> tuple[np.ndarray, np.ndarray | None]:
        """``count`` graphs: the matrices ``[count, n, n]`` (float64) and the sources
        ``[count]`` (None without)."""
        randint, draws, n, k, source = self.rng.randint, self._draws, self.n, len(self.p), self.source
        which, blocks, sources = [], [], []
        for _ in range(count):
            i = randint(k) if k > 1 else 0
            which.append(i)
            blocks.append(draws[i]())
            if source:
                sources.append(randint(n))
        blocks = np.array(blocks)  # [count, 1 or 2, n, n]
        edges = (blocks[:, 0] > self._qn[which, None, None]) != self._flip[which, None, None]
        W = blocks[:, 1] if self.weighted else None
        return self._matrices(edges, W), np.array(sources, dtype=np.int64) if self.source else None

    def _matrices(self, edges: np.ndarray, W: np.ndarray | None) -> np.ndarray:
        """The batch's matrices from its edge draws and weights, as ``_random_er_graph``
        makes them (the mask symmetrised, then weights symmetrised as sqrt(w w' + 1e-3))."""
        if not self.directed:
            edges = edges & edges.transpose(0, 2, 1)
        if W is None:
            return edges.astype(np.float64)
        if not self.directed:
            W = W * W.transpose(0, 2, 1)
            W += 1e-3
            np.sqrt(W, out=W)
        return edges * W


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
        self._graphs = Graphs(np.random.RandomState(seed), length, self.p, directed=self._alg.directed,
                              weighted=self._alg.weighted, source=self._alg.has_source, low=low, high=high)
        self._num_samples, self._track = num_samples, track_max_steps
        self._ahead = None  # graphs drawn and traced ahead of the batches asked for (a BatchTrace)
        # the RandomState where the graphs in ``_ahead`` began, and how many graphs drawn from
        # there were handed out before them: what ``state`` saves, so that a sampler restored
        # from it draws the same graphs although this one drew ahead
        self._ahead_from, self._ahead_skip = None, 0
        self.max_steps = 0
        if num_samples < 0:
            if track_max_steps:  # dm-clrs' warm-up: 1000 graphs fix the padded trace length
                self.max_steps = max(self._longest(_WARM_UP_CHUNK) for _ in range(1000 // _WARM_UP_CHUNK))
        else:
            self._dataset = self._batch(num_samples, 0)

    def _longest(self, count: int) -> int:
        """The longest trace of ``count`` fresh graphs."""
        return int(self._alg.trace_batch(*self._graphs.draw(count))[3].max())

    def _batch(self, count: int, min_steps: int):
        """``count`` fresh graphs traced, hints zero-padded to at least ``min_steps``."""
        inputs, hints, outputs, lengths = self._alg.trace_batch(*self._graphs.draw(count))
        T = next(iter(hints.values())).shape[1]
        if T < min_steps:
            hints = {k: _fit_time(v, min_steps) for k, v in hints.items()}
        return inputs, hints, outputs, lengths

    def _next_graphs(self, count: int, min_steps: int):
        """The next ``count`` graphs on the fly, hints padded to their longest trace or
        ``min_steps`` (as dm-clrs pads a batch). Graphs are drawn and traced ahead in
        chunks (``_AHEAD_PAIRS``), in dm-clrs' order, so the batches are the same."""
        if self._ahead is None or len(self._ahead[3]) < count:
            chunk = count * min(4, max(1, _AHEAD_PAIRS // (count * self.length**2)))
            if self._ahead is None:
                self._ahead_from, self._ahead_skip = self._graphs.rng.get_state(), 0
            fresh = self._alg.trace_batch(*self._graphs.draw(chunk))
            self._ahead = fresh if self._ahead is None else _joined(self._ahead, fresh)
        (inputs, hints, outputs, lengths), self._ahead = _split(self._ahead, count)
        self._ahead_skip += count
        if not len(self._ahead[3]):
            self._ahead = None
        T = max(min_steps, int(lengths.max()))
        return inputs, {k: _fit_time(v, T) for k, v in hints.items()}, outputs, lengths

    def next(self, batch_size: int | None = None):
        """The next ``batch_size`` graphs on the fly, or (no size) the fixed dataset."""
        if not batch_size:
            if self._num_samples < 0:
                raise ValueError("an on-the-fly sampler (num_samples=-1) needs a batch size")
            return self._dataset
        if self._num_samples >= 0:
            raise NotImplementedError("batches drawn from a fixed dataset are not needed by eqgat")
        batch = self._next_graphs(batch_size, self.max_steps if self._track else 0)
        if self._track:
            self.max_steps = max(self.max_steps, next(iter(batch[1].values())).shape[1])
        return batch

    def state(self) -> dict:
        """What decides the graphs still to come, as JSON-ready values: the ``RandomState``
        as of the first graph not yet handed out (where the graphs drawn ahead began, and
        how many of those were handed out: ``skip``), and the padded trace length so far."""
        ahead = self._ahead is not None
        name, keys, pos, has_gauss, gauss = self._ahead_from if ahead else self._graphs.rng.get_state()
        return {"rng": [name, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
                "skip": self._ahead_skip if ahead else 0, "max_steps": int(self.max_steps)}

    def set_state(self, state: dict) -> None:
        """Continue from ``state`` (``NumpySampler.state``): the next batch is the one the
        saved sampler would have handed out next. A state saved before samplers drew ahead
        has no ``skip``: its ``RandomState`` is already at the next graph (skip 0)."""
        name, keys, pos, has_gauss, gauss = state["rng"]
        self._graphs.rng.set_state((name, np.asarray(keys, np.uint32), pos, has_gauss, gauss))
        self._ahead, self._ahead_from, self._ahead_skip = None, None, 0
        if state.get("skip", 0):
            self._graphs.draw(state["skip"])  # the graphs handed out already: drawn again, not traced
        self.max_steps = state["max_steps"]
