"""The algorithm registry: one ``Algorithm`` record per algorithm eqgat knows.

Everything that depends on *which* algorithm is run (sampling, the reference trace,
training, verification, the compiled model, every command-line choice list) reads it
from the record, so a user's algorithm registered from their own code
(``eqgat.register_algorithm``) is sampled, compiled, verified, trained and scored like
the built-in ones, with no edit to eqgat.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..probes import Location, Probe, Stage, Type
from ..lang import DepthFirst, GraphProgram

#: A reference trace: ``(inputs, hints, outputs)``, NumPy arrays without a batch axis;
#: ``hints`` is one dict per hint step (categorical hints one-hot).
Trace = tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]], dict[str, np.ndarray]]

#: Reference traces of a batch of graphs: ``(inputs, hints, outputs, lengths)``, NumPy
#: float64 arrays with a leading batch axis b; ``hints[name]`` is ``[b, T, ...]`` (T the
#: longest trace, zeros past each graph's own ``lengths[g]`` steps; categorical hints
#: one-hot). ``inputs["A"]`` may be the matrices traced themselves (``graph_inputs``).
BatchTrace = tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]

#: The shortest padded trace of an algorithm without a ``trace_bound``.
MIN_BUCKET = 8


def graph_inputs(A: np.ndarray, source=None, *, copy: bool = True) -> dict[str, np.ndarray]:
    """dm-clrs' graph inputs of adjacency (or weight matrix) ``A``: ids ``pos`` = i/n,
    the matrix ``A``, the adjacency with self loops ``adj`` (``probing.graph``) and, when
    ``source`` is given, the source ``s`` as a one-hot mask.

    **Arguments:**

    - `A`: the n×n matrix (``A[i, j] != 0``: an edge from i to j), or ``[b, n, n]`` for a
      batch of graphs.
    - `source`: the source node (``[b]`` of them for a batch), or None for algorithms
      without one.
    - `copy`: False lets ``"A"`` be ``A`` itself when it is a float64 array (a batched
      trace of graphs its caller drew for it).

    **Returns:**

    The inputs dict of a reference trace (each array with ``A``'s batch axis, if any).
    """
    A = np.array(A, dtype=np.float64, copy=copy or None)
    n = A.shape[-1]
    pos = np.empty(A.shape[:-1])
    pos[...] = np.arange(n) / n
    adj = np.not_equal(A, 0, out=np.empty(A.shape))
    # the diagonal: (A + 1) != 0, i.e. A != -1
    np.not_equal(np.diagonal(A, 0, -2, -1), -1, out=adj.reshape(*A.shape[:-2], n * n)[..., :: n + 1])
    out = {"pos": pos, "A": A, "adj": adj}
    if source is not None:
        out["s"] = np.eye(n)[source]
    return out


def graph_input_probes(*, source: bool = False) -> tuple[Probe, ...]:
    """The probes of ``graph_inputs``' arrays, in dm-clrs' order: the ids ``pos``, the
    source ``s`` (with ``source``), the matrix ``A`` and the adjacency ``adj``."""
    I, N, E = Stage.INPUT, Location.NODE, Location.EDGE
    return (Probe("pos", I, N, Type.SCALAR), *((Probe("s", I, N, Type.MASK_ONE),) if source else ()),
            Probe("A", I, E, Type.SCALAR), Probe("adj", I, E, Type.MASK))


def stack_traces(traces: list[Trace]) -> BatchTrace:
    """Per-graph reference traces as one ``BatchTrace`` (hints zero-padded to the longest)."""
    T = max(len(h) for _, h, _ in traces)
    stack = lambda dicts: {k: np.stack([d[k] for d in dicts]).astype(np.float64) for k in dicts[0]}  # noqa: E731
    hints = {}
    for name in traces[0][1][0]:
        steps = [np.stack([step[name] for step in h]) for _, h, _ in traces]
        x = np.zeros((len(traces), T) + steps[0].shape[1:])
        for g, y in enumerate(steps):
            x[g, : len(y)] = y
        hints[name] = x
    lengths = np.array([len(h) for _, h, _ in traces], dtype=np.float64)
    return stack([t[0] for t in traces]), hints, stack([t[2] for t in traces]), lengths


def padded(hints: dict[str, np.ndarray], lengths: np.ndarray) -> dict[str, np.ndarray]:
    """Hints ``[b, T, ...]`` as float64, zero from each graph's ``lengths[g]``-th step on
    (arrays already float64 are zeroed in place)."""
    out = {k: v.astype(np.float64, copy=False) for k, v in hints.items()}
    dead = np.arange(next(iter(out.values())).shape[1]) >= lengths[:, None]  # [b, T]
    if dead.any():
        for x in out.values():
            x[dead] = 0
    return out


def one_graph(batch_reference: Callable[..., BatchTrace], A: np.ndarray, source: int | None = None) -> Trace:
    """One graph's ``Trace`` by a batched reference (``batch_reference(A[b, n, n],
    sources[b] | None) -> BatchTrace``) run on a batch of one, a float64 copy of ``A`` (so
    the trace's input ``"A"`` is not the caller's array)."""
    sources = None if source is None else np.array([source])
    inputs, hints, outputs, lengths = batch_reference(np.array(A, dtype=np.float64)[None], sources)
    steps = [{k: v[0, t] for k, v in hints.items()} for t in range(int(lengths[0]))]
    return {k: v[0] for k, v in inputs.items()}, steps, {k: v[0] for k, v in outputs.items()}


def _next_power_of_two(T: int) -> int:
    return max(MIN_BUCKET, 1 << (max(T, 1) - 1).bit_length())


@dataclass(frozen=True)
class Algorithm:
    """One algorithm: its probes, its NumPy reference trace, the graphs it runs on and,
    where it has one, the program that compiles it.

    **Arguments:**

    - `name`: the name every tool knows it by (``--algo NAME``).
    - `spec`: its probes (``eqgat.Probe``): inputs, hints and outputs.
    - `reference`: ``reference(A, source) -> (inputs, hints, outputs)``, its trace on the
      n×n matrix ``A`` (``source`` is None for algorithms without one), as dicts of NumPy
      arrays without a batch axis (``hints`` one dict per step; categorical hints
      one-hot). None for an algorithm that can be compiled or loaded but not sampled.
    - `directed`: it runs on directed graphs (dm-clrs' samplers: no symmetrisation).
    - `weighted`: its graphs carry edge weights (uniform, symmetrised as dm-clrs does).
    - `has_source`: its reference takes a source node (drawn after the graph).
    - `program`: a ``GraphProgram`` or ``DepthFirst`` program computing it, or None.
    - `trace_bound`: ``trace_bound(n)``, an upper bound on its number of hint steps on n
      nodes. Traces are padded to it, so a model compiles once per graph size. Without
      one (None, the safe default), a batch is padded to the next power of two of its
      longest trace (at least 8): a few compiles per size, never a trace cut short.
    - `pad_to_bound`: False pads to the next power of two even when a ``trace_bound`` is
      known, capped at the bound (for bounds far above typical traces, e.g. ``bfs_seq``).
    - `sequential`: its trace has a step per node-level change (DFS-like: about 3n steps
      or more), so reproduction profiles spend fewer training steps on it.
    - `batch_reference`: ``batch_reference(A, sources) -> BatchTrace``, the same traces for
      a batch of graphs at once (``A`` ``[b, n, n]``, ``sources`` ``[b]`` or None), equal to
      ``reference`` graph by graph; the samplers use it (``trace_batch``). None: the
      reference runs graph by graph.
    - `doc`: one line saying what it is.
    """

    name: str
    spec: tuple[Probe, ...]
    reference: Callable[..., Trace] | None = None
    directed: bool = False
    weighted: bool = False
    has_source: bool = False
    program: GraphProgram | DepthFirst | None = None
    trace_bound: Callable[[int], int] | None = None
    pad_to_bound: bool = True
    sequential: bool = False
    batch_reference: Callable[..., BatchTrace] | None = None
    doc: str = field(default="", compare=False)

    def __post_init__(self):
        problems = []
        if not isinstance(self.name, str) or not self.name:
            problems.append(f"name must be a non-empty string, got {self.name!r}")
        spec = tuple(self.spec)
        object.__setattr__(self, "spec", spec)
        if not all(isinstance(p, Probe) for p in spec):
            problems.append("spec must be a tuple of eqgat.Probe")
        else:
            names = [p.name for p in spec]
            if dupes := sorted({n for n in names if names.count(n) > 1}):
                problems.append(f"spec has probes named twice: {dupes}")
            if not any(p.stage == Stage.OUTPUT for p in spec):
                problems.append("spec has no output probe (the score is taken on outputs)")
            if not any(p.stage == Stage.INPUT and p.location == Location.NODE for p in spec):
                problems.append("spec has no node input (e.g. the ids 'pos')")
            for p in spec:
                if p.stage not in (Stage.INPUT, Stage.HINT, Stage.OUTPUT):
                    problems.append(f"probe {p.name!r} has unknown stage {p.stage!r}")
                if p.location not in (Location.NODE, Location.EDGE, Location.GRAPH):
                    problems.append(f"probe {p.name!r} has unknown location {p.location!r}")
                if p.type not in (Type.SCALAR, Type.MASK, Type.MASK_ONE, Type.POINTER, Type.CATEGORICAL):
                    problems.append(f"probe {p.name!r} has unknown type {p.type!r}")
        if self.reference is not None and not callable(self.reference):
            problems.append("reference must be callable: reference(A, source) -> (inputs, hints, outputs)")
        if self.batch_reference is not None and (self.reference is None or not callable(self.batch_reference)):
            problems.append("batch_reference must be callable, beside a reference: "
                            "batch_reference(A, sources) -> (inputs, hints, outputs, lengths)")
        if self.trace_bound is not None and not callable(self.trace_bound):
            problems.append("trace_bound must be callable: trace_bound(n) -> int")
        if self.program is not None:
            if not isinstance(self.program, (GraphProgram, DepthFirst)):
                problems.append(f"program must be a GraphProgram or a DepthFirst, got {type(self.program).__name__}")
            elif self.program.algorithm != self.name:
                problems.append(f"program is written for {self.program.algorithm!r}, not {self.name!r} "
                                f"(GraphProgram(algorithm={self.name!r}, ...))")
        if problems:
            raise ValueError(f"invalid algorithm {self.name!r}:\n" + "\n".join(f"  - {m}" for m in problems))

    def __repr__(self) -> str:
        graphs = ", ".join(k for k in ("directed", "weighted", "has_source") if getattr(self, k)) or "undirected"
        program = type(self.program).__name__ if self.program is not None else "no program"
        reference = "a reference" if self.reference is not None else "no reference"
        return f"Algorithm({self.name!r}: {len(self.spec)} probes, {graphs}, {reference}, {program})"

    @property
    def compiled(self) -> bool:
        """Whether it has a program (``eqgat.compile_algorithm`` compiles it)."""
        return self.program is not None

    @property
    def sampled(self) -> bool:
        """Whether it has a reference trace (it can be sampled, trained and verified)."""
        return self.reference is not None

    def max_trace_length(self, n: int) -> int | None:
        """``trace_bound(n)``, or None when no bound is known."""
        return None if self.trace_bound is None else int(self.trace_bound(n))

    def time_bucket(self, n: int, T: int) -> int:
        """The padded trace length of a batch of n-node graphs whose longest trace has T
        hint steps (never below T; see ``trace_bound`` and ``pad_to_bound``)."""
        bound = self.max_trace_length(n)
        if bound is None:
            return _next_power_of_two(T)
        if self.pad_to_bound:
            return max(T, bound)
        return max(T, min(_next_power_of_two(T), bound))

    def trace(self, A: np.ndarray, source: int | None = None) -> Trace:
        """The reference trace on ``A`` (from ``source`` when the algorithm has one); a
        ``ValueError`` naming the problem for an algorithm without a reference or a
        source that is not a node."""
        self._check(np.shape(A)[0], None if source is None else np.array([source]))
        return self.reference(A, int(source) if self.has_source else None)

    def trace_batch(self, A: np.ndarray, sources: np.ndarray | None = None) -> BatchTrace:
        """The reference traces of the graphs ``A`` (``[b, n, n]``; from ``sources``,
        ``[b]``, when the algorithm has one) as one ``BatchTrace``: ``batch_reference``'s,
        or ``reference``'s graph by graph, stacked. Errors as ``trace``'s."""
        sources = None if sources is None or not self.has_source else np.asarray(sources, dtype=np.int64)
        self._check(A.shape[1], sources)
        if self.batch_reference is not None:
            return self.batch_reference(A, sources)
        per_graph = [None] * len(A) if sources is None else sources.tolist()
        return stack_traces([self.reference(a, s) for a, s in zip(A, per_graph)])

    def _check(self, n: int, sources: np.ndarray | None) -> None:
        """A ``ValueError`` for an algorithm without a reference, or for a missing source
        or one that is not a node."""
        if self.reference is None:
            raise ValueError(f"{self.name!r} has no reference trace (Algorithm.reference): it cannot be sampled")
        if self.has_source:
            if sources is None:
                raise ValueError(f"source None is not a node of a graph with {n} nodes")
            if bad := [s for s in sources.tolist() if not 0 <= s < n]:
                raise ValueError(f"source {bad[0]} is not a node of a graph with {n} nodes")

    def replace(self, **changes: Any) -> "Algorithm":
        """A copy with ``changes`` (e.g. ``name=`` and a matching ``program``). A new
        ``reference`` without a new ``batch_reference`` drops the batched one (it traced
        the old reference)."""
        if "reference" in changes:
            changes.setdefault("batch_reference", None)
        return dataclasses.replace(self, **changes)


_REGISTRY: dict[str, Algorithm] = {}


def _conflicts(old: Algorithm, new: Algorithm) -> list[str]:
    return [f.name for f in dataclasses.fields(Algorithm) if f.compare and getattr(old, f.name) != getattr(new, f.name)]


def register_algorithm(algorithm: Algorithm) -> Algorithm:
    """Make ``algorithm`` known to every eqgat tool (sampling, training, compilation,
    verification, landscapes, the command lines).

    Registering an equal record again is a no-op. A record under a name already taken by
    a different one is refused, naming the fields that differ; the one exception is a
    spec-only record (what loading a checkpoint of an unknown algorithm registers), which
    a full record with the same probes replaces.

    **Arguments:**

    - `algorithm`: the ``Algorithm`` record.

    **Returns:**

    The registered record (so a module can write ``ALGORITHM = register_algorithm(...)``).
    """
    if not isinstance(algorithm, Algorithm):
        raise TypeError(f"register_algorithm takes an eqgat.Algorithm, got {type(algorithm).__name__}")
    old = _REGISTRY.get(algorithm.name)
    if old is not None and old != algorithm:
        spec_only = old.reference is None and old.program is None and old.spec == algorithm.spec
        if not spec_only:
            raise ValueError(f"algorithm {algorithm.name!r} is already registered with another "
                             f"{', '.join(_conflicts(old, algorithm))}; register it under another name")
    _REGISTRY[algorithm.name] = algorithm
    return algorithm


def register_spec(algorithm: str, probes: tuple[Probe, ...]) -> None:
    """Make an algorithm's probes known without a reference or a program (what loading a
    checkpoint of a user's algorithm does). The same probes again are a no-op; other
    probes under a registered name are an error naming it.

    **Arguments:**

    - `algorithm`: the algorithm's name.
    - `probes`: its ``Probe``s (name, stage, location, type).

    **Returns:**

    None; afterwards ``get_spec(algorithm)`` is ``probes``.
    """
    probes = tuple(probes)
    old = _REGISTRY.get(algorithm)
    if old is not None:
        if old.spec != probes:
            raise ValueError(f"algorithm {algorithm!r} is already registered with other probes")
        return
    register_algorithm(Algorithm(algorithm, probes))


def get_algorithm(name: str) -> Algorithm:
    """The registered ``Algorithm`` called ``name``.

    **Arguments:**

    - `name`: a built-in's name (``bfs``, ``bellman_ford``, ``dfs``, ``bfs_seq``,
      ``dfs_light``, ``labelprop``) or one given to ``register_algorithm``.

    **Returns:**

    Its ``Algorithm`` record; a ``ValueError`` naming the known ones when there is none.
    """
    alg = _REGISTRY.get(name)
    if alg is None:
        raise ValueError(f"unknown algorithm {name!r}; eqgat knows {', '.join(_REGISTRY)} "
                         "(eqgat.register_algorithm adds one)")
    return alg


def registered(*, sampled: bool = False, compiled: bool = False) -> tuple[Algorithm, ...]:
    """Every registered ``Algorithm``, in registration order; ``sampled`` keeps those with
    a reference trace, ``compiled`` those with a program."""
    return tuple(a for a in _REGISTRY.values() if (a.sampled or not sampled) and (a.compiled or not compiled))


def names(*, sampled: bool = False, compiled: bool = False) -> list[str]:
    """The names of ``registered(sampled=..., compiled=...)`` (command-line choices)."""
    return [a.name for a in registered(sampled=sampled, compiled=compiled)]


def get_spec(algorithm: str) -> tuple[Probe, ...]:
    """The probes of ``algorithm``.

    **Arguments:**

    - `algorithm`: a registered algorithm's name.

    **Returns:**

    Its ``Probe``s in dm-clrs' order; a ``ValueError`` naming the known algorithms when
    ``algorithm`` is not one.
    """
    return get_algorithm(algorithm).spec


def max_trace_length(algorithm: str, n: int) -> int | None:
    """An upper bound on the hint steps of ``algorithm`` on ``n`` nodes.

    **Arguments:**

    - `algorithm`: a registered algorithm's name.
    - `n`: the graph size.

    **Returns:**

    ``Algorithm.trace_bound(n)``, an int, or None when the algorithm states none.
    """
    return get_algorithm(algorithm).max_trace_length(n)


def time_bucket(algorithm: str, n: int, T: int) -> int:
    """The padded trace length of ``algorithm``'s n-node batch whose longest trace has T
    hints (``Algorithm.time_bucket``)."""
    return get_algorithm(algorithm).time_bucket(n, T)
