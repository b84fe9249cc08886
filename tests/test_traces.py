"""The vectorised reference traces (``Algorithm.reference`` and ``trace_batch``) of BFS,
Bellman-Ford, DFS and the fork's ``dfs_light`` equal their loops (``tests/_loop_traces.py``)
exactly, graph by graph and in batches; the sampler's draws equal dm-clrs' own calls.

The graphs come from hypothesis strategies: 1 to ``MAX_N`` nodes, densities from empty to
complete, self-loops, and values chosen to tie (small integers and binary fractions; for
BFS and DFS also -1, which ``adj`` and the edge tests see differently). Two budgets, as in
``tests/test_properties.py``: ``EXAMPLES`` per test in every run (derandomized), and
``SLOW_EXAMPLES`` under ``-m slow``.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eqgat
from eqgat.data import TRAIN_P
from eqgat.data.families import directed_families, families
from eqgat.data.samplers import NumpySampler, bernoulli_threshold

from _loop_traces import LOOP_TRACES, dm_clrs_batch, stacked

NAMES = tuple(LOOP_TRACES)
MAX_N = 10
EXAMPLES = 100  # per test and algorithm, in every run
SLOW_EXAMPLES = 3000  # per algorithm, under -m slow

_COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _values(name: str) -> tuple[float, ...]:
    """Edge values: positive weights that tie for Bellman-Ford (a negative one could make
    a negative cycle, which dm-clrs' loop never leaves); for BFS and DFS also -1."""
    return (1.0, 2.0, 3.0, 0.5, 0.25) if eqgat.get_algorithm(name).weighted else (1.0, 2.0, -1.0)


@st.composite
def graphs(draw, name: str, n: int | None = None, dag: bool = False):
    """``(A, source)``: a graph ``name`` runs on (symmetric if undirected), self-loops
    included, and a source (None without). ``dag``: edges i -> j for i < j only, weights
    1, -1 and 2 (no cycle, so Bellman-Ford ends; offers often equal an unreached node's 0)."""
    alg = eqgat.get_algorithm(name)
    n = draw(st.integers(1, MAX_N), label="n") if n is None else n
    density = draw(st.sampled_from(("empty", "complete", 0, 1, 2, 3)), label="density")
    values = (1.0, -1.0, 2.0) if dag else _values(name)
    if density == "empty":
        A = np.zeros((n, n))
    elif density == "complete":
        A = np.full((n, n), draw(st.sampled_from(values), label="value"))
    else:  # each entry one of 2**density zeros or a value
        entries = st.sampled_from((0.0,) * 2**density + values)
        A = np.array(draw(st.lists(entries, min_size=n * n, max_size=n * n), label="entries")).reshape(n, n)
    if dag:
        A = np.triu(A, 1)
    elif not alg.directed:
        A = np.triu(A) + np.triu(A, 1).T
    source = draw(st.integers(0, n - 1), label="source") if alg.has_source else None
    return A, source


@st.composite
def batches(draw, name: str, dag: bool = False):
    """``(A [b, n, n], sources [b] or None)``: 1 to 6 graphs of one size."""
    n = draw(st.integers(1, MAX_N), label="n")
    cases = draw(st.lists(graphs(name, n, dag), min_size=1, max_size=6), label="graphs")
    sources = None if cases[0][1] is None else np.array([s for _, s in cases])
    return np.stack([A for A, _ in cases]), sources


def assert_same(ours, loops):
    """Two traces (or two batches of traces) are equal, array for array, dtype apart."""
    for part, (x, y) in enumerate(zip(ours, loops)):
        if isinstance(x, dict):
            assert set(x) == set(y), part
            for k in x:
                np.testing.assert_array_equal(x[k], y[k], err_msg=f"part {part}: {k}")
        elif isinstance(x, list):
            assert len(x) == len(y), "hint steps"
            for t, (a, b) in enumerate(zip(x, y)):
                assert set(a) == set(b)
                for k in a:
                    np.testing.assert_array_equal(a[k], b[k], err_msg=f"step {t}: {k}")
        else:
            np.testing.assert_array_equal(x, y, err_msg=f"part {part}")


def _one_graph(name: str, examples: int, **extra):
    @settings(max_examples=examples, **_COMMON, **extra)
    @given(case=graphs(name))
    def run(case):
        A, source = case
        assert_same(eqgat.get_algorithm(name).trace(A, source), LOOP_TRACES[name](A, source))

    return run


def _batched(name: str, examples: int, dag: bool = False, **extra):
    @settings(max_examples=examples, **_COMMON, **extra)
    @given(batch=batches(name, dag))
    def run(batch):
        A, sources = batch
        loops = stacked([LOOP_TRACES[name](a, None if sources is None else s)
                         for a, s in zip(A, [None] * len(A) if sources is None else sources)])
        assert_same(eqgat.get_algorithm(name).trace_batch(A, sources), loops)

    return run


@pytest.mark.parametrize("name", NAMES)
def test_traces_equal_the_loops_on_random_graphs(name):
    _one_graph(name, EXAMPLES, derandomize=True)()


@pytest.mark.parametrize("name", NAMES)
def test_batched_traces_equal_the_loops_graph_by_graph(name):
    # graphs of one batch stop at different rounds (zero padding, stopped graphs left as they are)
    _batched(name, EXAMPLES, derandomize=True)()


def test_bellman_ford_batches_equal_the_loops_with_negative_weights():
    # directed acyclic graphs with negative weights: an offer of 0 reaches a node without
    # changing its distance, so dm-clrs stops that graph's loop while others run on
    zero = np.zeros((5, 5))
    zero[0, 1], zero[1, 2], zero[2, 3] = 1.0, -1.0, 1.0  # round 2 reaches 2 at distance 0: stop
    path = np.eye(5, k=1)
    A, sources = np.stack([zero, path]), np.array([0, 0])
    loops = stacked([LOOP_TRACES["bellman_ford"](a, s) for a, s in zip(A, sources)])
    assert_same(eqgat.get_algorithm("bellman_ford").trace_batch(A, sources), loops)
    assert loops[3].tolist() == [2.0, 5.0]
    _batched("bellman_ford", EXAMPLES, dag=True, derandomize=True)()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_traces_equal_the_loops_on_many_random_graphs(name):
    _one_graph(name, SLOW_EXAMPLES // 2, print_blob=True)()
    _batched(name, SLOW_EXAMPLES // 2, print_blob=True)()


@pytest.mark.parametrize("name", NAMES)
def test_traces_of_the_graph_families_equal_the_loops(name):
    # degenerate shapes and exact ties (no edges, paths, stars, complete graphs, components,
    # grids, tournaments, self-loops), one by one and all of one size in one batch
    alg = eqgat.get_algorithm(name)
    for n in (1, 2, 3, 5, 9):
        cases = directed_families(n, seed=n) if alg.directed else families(n, seed=n) if n >= 2 else []
        cases = [(c.A if alg.weighted else (c.A != 0).astype(float), c.source if alg.has_source else None)
                 for c in cases]
        cases += [(np.zeros((n, n)), 0 if alg.has_source else None), (np.eye(n), n - 1 if alg.has_source else None)]
        for A, s in cases:
            assert_same(alg.trace(A, s), LOOP_TRACES[name](A, s))
        sources = np.array([s for _, s in cases]) if alg.has_source else None
        assert_same(alg.trace_batch(np.stack([A for A, _ in cases]), sources),
                    stacked([LOOP_TRACES[name](A, s) for A, s in cases]))


def test_one_graph_traces_do_not_share_the_callers_matrix():
    A = np.ones((3, 3))
    inputs, _, _ = eqgat.get_algorithm("bfs").trace(A, 0)
    inputs["A"][0, 0] = 5.0
    assert A[0, 0] == 1.0


@pytest.mark.parametrize("p", [*TRAIN_P, 0.5, 1e-9, 1 - 1e-9, 0.123456789, 0.987654321])
def test_bernoulli_threshold_is_numpys_binomial(p):
    qn, flip = bernoulli_threshold(p)
    for seed in range(20):
        a, b = np.random.RandomState(seed), np.random.RandomState(seed)
        np.testing.assert_array_equal(a.binomial(1, p, size=(16, 16)), (b.random_sample((16, 16)) > qn) != flip)
        assert a.random_sample() == b.random_sample()  # the same draws consumed


def test_bernoulli_threshold_leaves_the_edge_cases_to_numpy():
    assert bernoulli_threshold(0.0) is None and bernoulli_threshold(1.0) is None


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("p, low, high", [((0.5,), 0.0, 1.0), (TRAIN_P, 0.0, 1.0), ((0.0, 1.0, 0.3), 0.0, 1.0),
                                          (TRAIN_P, 0.2, 2.0)])
def test_sampled_batches_are_dm_clrs_draws(name, p, low, high):
    # choice as randint, binomial as a threshold, uniform(0, 1) as random_sample, NumPy's
    # own calls for p = 0 or 1 and other weight ranges: the same graphs as dm-clrs' calls
    for n in (2, 5, 13):
        ours = NumpySampler(name, num_samples=-1, length=n, seed=n, p=p, low=low, high=high, track_max_steps=False)
        theirs = dm_clrs_batch(name, n=n, count=40, seed=n, p=p, low=low, high=high)
        got = ours.next(40)
        assert_same(got, theirs)
        assert all(v.dtype == np.float64 for part in got[:3] for v in part.values())


def test_a_replaced_reference_drops_the_batched_one():
    bfs = eqgat.get_algorithm("bfs")
    assert bfs.batch_reference is not None
    assert bfs.replace(reference=LOOP_TRACES["bfs"]).batch_reference is None
    assert bfs.replace(doc="the same traces").batch_reference is bfs.batch_reference


@pytest.mark.parametrize("name", NAMES)
def test_batches_of_any_size_are_dm_clrs_batches(name):
    # graphs traced ahead in chunks are handed out in dm-clrs' order, each batch padded to
    # its own longest trace, whatever the batch sizes asked for
    sizes = [3, 7, 32, 1, 50, 32, 32]
    ours = NumpySampler(name, num_samples=-1, length=6, seed=4, p=TRAIN_P, track_max_steps=False)
    theirs = dm_clrs_batch(name, n=6, count=sum(sizes), seed=4, p=TRAIN_P)
    start = 0
    for k in sizes:
        inputs, hints, outputs, lengths = theirs
        T = int(lengths[start:start + k].max())
        want = ({n: v[start:start + k] for n, v in inputs.items()}, {n: v[start:start + k, :T] for n, v in hints.items()},
                {n: v[start:start + k] for n, v in outputs.items()}, lengths[start:start + k])
        assert_same(ours.next(k), want)
        start += k
