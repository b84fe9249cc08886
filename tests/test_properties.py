"""Property-based exactness: on random graphs, every compiled algorithm with a reference
reproduces the reference trace step for step (every live hint step and every output).

The graphs come from hypothesis strategies built from its primitives, so a failure shrinks
to the smallest graph (fewest nodes, then fewest and lightest edges, lowest source, the
first compile options). Edge weights are small integers ({1, 2, 3} for weighted
algorithms, 0/1 adjacency otherwise), so that exact ties are frequent. Undirected
algorithms get symmetric graphs without self-loops; directed ones any 0/1 matrix,
self-loops included (dm-clrs' sampler draws them). Each example also draws the compile
options: ``max_nodes`` (at least the graph's size) and, for graph programs, ``scale``.

Two budgets: ``EXAMPLES`` per algorithm in every run (derandomized, so CI sees the same
graphs every time), and ``SLOW_EXAMPLES`` in all under ``-m slow``. Nothing is written to
disk (``database=None``).
"""

import functools

import equinox as eqx
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, currently_in_test_context, given, settings
from hypothesis import strategies as st

import eqgat
from eqgat.compiler import VALUE_BOUND

NAMES = tuple(a.name for a in eqgat.algorithms(sampled=True, compiled=True))
MAX_N = 12  # the largest random graph
MAX_NODES = (12, 16, 64, 128)  # compile options drawn from small sets: each (name, max_nodes, scale) compiles once
SCALES = (None, 1, 2, 10)
WEIGHTS = (0.0, 1.0, 2.0, 3.0)  # 0 = no edge; first, so edges shrink away
EXAMPLES = 40  # per algorithm, in every run
SLOW_EXAMPLES = 2000  # in all, under -m slow

_COMMON = dict(deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.differing_executors])


def test_the_algorithms_under_test():
    # the property covers every compiled algorithm with a reference; today these three
    assert set(NAMES) >= {"bfs", "bellman_ford", "dfs_light"}, NAMES


def _graph_program(name: str) -> bool:
    return isinstance(eqgat.get_algorithm(name).program, eqgat.lang.GraphProgram)


@functools.lru_cache(maxsize=None)
def compiled(name: str, max_nodes: int, scale: int | None) -> eqgat.Model:
    """The compiled model of ``name`` (compiling is the slow part: once per setting)."""
    if _graph_program(name):
        options = eqgat.CompileOptions(max_nodes=max_nodes, scale=scale)
    else:  # the depth-first backend takes max_nodes only
        assert scale is None
        options = eqgat.CompileOptions(max_nodes=max_nodes)
    return eqgat.compile_program(eqgat.get_algorithm(name).program, options=options)


@st.composite
def cases(draw, name: str, max_n: int = MAX_N):
    """``(A, source, max_nodes, scale)``: a random graph of 1..max_n nodes that ``name``
    accepts, a random source (0 without one) and random compile options."""
    alg = eqgat.get_algorithm(name)
    n = draw(st.integers(1, max_n), label="n")
    pairs = [(i, j) for i in range(n) for j in range(n)] if alg.directed else \
        [(i, j) for i in range(n) for j in range(i + 1, n)]
    # edge density: each entry is one of 2**sparsity zeros or a weight, uniformly, so graphs
    # range from dense to tree-like (long traces, large distances)
    sparsity = draw(st.integers(0, 3), label="sparsity")
    values = st.sampled_from((0.0,) * 2**sparsity + (WEIGHTS[1:] if alg.weighted else WEIGHTS[1:2]))
    ws = draw(st.lists(values, min_size=len(pairs), max_size=len(pairs)), label="edges")
    A = np.zeros((n, n))
    for (i, j), w in zip(pairs, ws):
        A[i, j] = w
        if not alg.directed:
            A[j, i] = w
    source = draw(st.integers(0, n - 1), label="source") if alg.has_source else 0
    max_nodes = draw(st.sampled_from([m for m in MAX_NODES if m >= n]), label="max_nodes")
    scale = draw(st.sampled_from(SCALES), label="scale") if _graph_program(name) else None
    return A, source, max_nodes, scale


def within_value_bound(batch) -> bool:
    """Whether every value ``batch``'s reference stores and every expression it compares
    (for Bellman-Ford, ``d_j + A_ij`` for every sender j, masked or not: a superset) lies
    below the compiled value bound; the compiler is exact only there."""
    if "d" not in batch.hints:
        return True
    d = np.asarray(batch.hints["d"][0], np.float64)  # [T, n]
    A = np.asarray(batch.inputs["A"][0], np.float64)  # [n, n]
    expr = np.where(A[None] > 0, d[:, None, :] + A[None], 0.0)  # [T, i, j]
    return max(d.max(), expr.max()) < VALUE_BOUND


def mismatches(model: eqgat.Model, batch) -> dict[str, list[int]]:
    """Per probe, what ``model`` gets wrong on the one-graph ``batch``: the live hint
    steps it mispredicts, ``[-1]`` for a wrong output; empty when exact."""
    got = eqgat.matches(model, eqgat.predict(model, batch), batch)
    T = batch.trace_length
    live = eqgat.live_steps(np.asarray(batch.length), max(1, T - 1))[0]
    bad = {}
    for probe, ok in got.items():
        ok = np.asarray(ok)[0]
        if ok.ndim == 1:  # a hint: [T-1] steps, False past the trace
            assert ok.shape == live.shape, (probe, ok.shape, live.shape)
            wrong = np.flatnonzero(live & ~ok).tolist()
        else:
            wrong = [] if bool(ok) else [-1]
        if wrong:
            bad[probe] = wrong
    return bad


def check_exact(name: str, A: np.ndarray, source: int, model: eqgat.Model) -> None:
    """The property: ``model`` reproduces ``name``'s reference on graph ``A`` from
    ``source``. Inside a hypothesis test, graphs whose values reach the compiled bound are
    rejected (``assume``); outside, they fail."""
    batch = eqgat.from_graph(name, A, source=source)
    if currently_in_test_context():
        assume(within_value_bound(batch))
    else:
        assert within_value_bound(batch), "the graph's values reach the compiled bound"
    bad = mismatches(model, batch)
    assert not bad, f"{name}: wrong {bad} (hint steps; -1 = the output) on source {source}, A =\n{A!r}"


def _property(name: str, examples: int, **extra):
    @settings(max_examples=examples, **_COMMON, **extra)
    @given(case=cases(name))
    def run(case):
        A, source, max_nodes, scale = case
        check_exact(name, A, source, compiled(name, max_nodes, scale))

    return run


@pytest.mark.parametrize("name", NAMES)
def test_compiled_models_are_exact_on_random_graphs(name):
    _property(name, EXAMPLES, derandomize=True)()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_compiled_models_are_exact_on_many_random_graphs(name):
    # SLOW_EXAMPLES in all, split evenly; random (not derandomized, except under hypothesis's
    # CI profile): each run sees new graphs, and a failure reports the shrunk graph and the
    # @reproduce_failure blob that replays it
    _property(name, SLOW_EXAMPLES // len(NAMES), print_blob=True)()


@pytest.mark.parametrize("name", NAMES)
def test_the_property_fails_on_a_broken_model(name):
    """The same check catches a model with its selection reversed (ω negated: prefer the
    worst sender), on a small graph with a choice to make."""
    A = np.array([[0, 1, 1, 0], [1, 0, 1, 1], [1, 1, 0, 1], [0, 1, 1, 0]], float)
    if eqgat.get_algorithm(name).weighted:
        A = A * np.array([[0, 1, 3, 0], [1, 0, 1, 2], [3, 1, 0, 1], [0, 2, 1, 0]])
    model = compiled(name, 16, None)
    check_exact(name, A, 0, model)  # the intact model passes
    broken = eqx.tree_at(lambda m: m.processor.omega, model, -model.processor.omega)
    with pytest.raises(AssertionError, match="wrong"):
        check_exact(name, A, 0, broken)


def test_a_failure_shrinks_to_the_smallest_graph():
    """Hypothesis shrinks a failing case to the smallest graph: a property that fails on
    every graph with an edge shrinks to two nodes and one edge."""
    found = []

    @settings(max_examples=100, derandomize=True, **_COMMON)
    @given(case=cases("bfs"))
    def fails_with_an_edge(case):
        A = case[0]
        found.append(A)
        assert not A.any()

    with pytest.raises(AssertionError):
        fails_with_an_edge()
    last = found[-1]  # hypothesis replays the shrunk example last
    assert last.shape == (2, 2) and last.sum() == 2, last
