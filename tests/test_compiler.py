"""Compiled programs against reference evaluators: dm-clrs for BFS and Bellman-Ford,
the plain-Python reference for label propagation; hand-made edge cases included."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import eqgat
from eqgat import data, lang, programs
from eqgat import live_steps, matches, output_score, predict
from eqgat import verify_algorithm as verify

BF_TIE_GRAPHS = {
    # source 3; node 1 is reached directly (w=2) and, one round later, through 0 at the
    # same length 1+1: dm-clrs keeps the first parent (3), not the lower index (0).
    "incumbent tie": (np.array([[0, 1, 0, 1], [1, 0, 0, 2], [0, 0, 0, 0], [1, 2, 0, 0]], float), 3),
    # source 0; node 3 has two parents at equal length 2 in the same round: lowest id wins.
    "same-round tie": (np.array([[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 0]], float), 0),
    # self-loops and a tie at the source's neighbours
    "self-loops": (np.array([[3, 1, 1, 0], [1, 2, 0, 1], [1, 0, 1, 1], [0, 1, 1, 5]], float), 0),
}


def _all_exact(model, batch):
    ok = matches(model, predict(model, batch), batch)
    live = live_steps(np.asarray(batch.length), batch.trace_length - 1)
    for name, m in ok.items():
        want = live if m.ndim == 2 else np.ones_like(m)
        assert np.array_equal(m, want), f"{name} wrong at {np.argwhere(m != want)[:5].tolist()}"


def _path(n):
    A = np.zeros((n, n))
    for i in range(n - 1):
        A[i, i + 1] = A[i + 1, i] = 1
    return A


HAND_MADE = {
    "one node": np.zeros((1, 1)),
    "disconnected": np.array([[0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 1, 1], [0, 0, 1, 0, 1], [0, 0, 1, 1, 0]], float),
    "path": _path(9),
    "complete": np.ones((6, 6)) - np.eye(6),
}


@pytest.mark.parametrize("hidden", [None, 128])
@pytest.mark.parametrize("algo", ["bfs", "bellman_ford"])
@pytest.mark.parametrize("graph", list(HAND_MADE))
def test_hand_made_graphs_exact(algo, hidden, graph):
    A = HAND_MADE[graph]
    if algo == "bellman_ford":
        A = A * (1 + np.arange(A.shape[0])[:, None] + np.arange(A.shape[0])[None]) / 8  # symmetric, paths < 16
    batch = data.from_graph(algo, A, source=0)
    model = eqgat.compile_program(programs.PROGRAMS[algo], hidden)
    _all_exact(model, batch)
    if graph == "path":  # the trace is as long as the graph
        assert int(batch.length[0]) == A.shape[0]


@pytest.mark.parametrize("case", list(BF_TIE_GRAPHS))
def test_bellman_ford_ties_of_equal_path_length(case):
    A, source = BF_TIE_GRAPHS[case]
    batch = data.from_graph("bellman_ford", A, source=source)
    _all_exact(eqgat.compile_program(programs.bellman_ford), batch)


@pytest.mark.parametrize("algo", ["bfs", "bellman_ford"])
def test_many_sampled_graphs_exact_up_to_documented_near_ties(algo):
    # real-valued weights: two paths may differ by less than the float32 resolution;
    # such misses must be near-ties in dm-clrs' own float64 values, nothing else
    report = verify(algo, None, (5, 12, 20), samples=16, seed=1)
    assert report.exact, [r for r in report.rows if r.misses]
    assert all(r.total > 0 for r in report.rows if r.probe != "pi" or r.length > 1)
    if algo == "bfs":
        assert report.near_ties == 0


def test_labelprop_matches_its_plain_python_reference():
    model = eqgat.compile_program(programs.labelprop, 8)
    rng = np.random.default_rng(0)
    for case in range(40):
        n = int(rng.integers(1, 14))
        adj = (rng.random((n, n)) < rng.choice([0.1, 0.3, 0.6])).astype(float)
        seeds = (rng.random(n) < 0.25).astype(float)
        if case % 5 == 0:
            seeds[:] = 0  # nothing ever gets a label
        pos = np.sort(rng.random(n)) if case % 2 else None
        _all_exact(model, programs.labelprop_batch(adj, seeds, pos=pos))


def test_program_errors_are_clear():
    bad = lang.GraphProgram(
        algorithm="bfs", hidden={"visit": lang.Flag(start="s"), "pi": lang.Pointer()},
        select=lang.Minimum(expr=lang.other.idx, mask=lang.other.pi),
        update={"visit": lang.other.visit, "pi": lang.other.idx},
        probes={"reach_h": "visit", "pi_h": "pi", "pi": "pi"},
    )
    with pytest.raises(ValueError, match="mask must be other.visit"):
        eqgat.compile_program(bad)
    with pytest.raises(ValueError, match="needs hidden size >= 6"):
        eqgat.compile_program(programs.bellman_ford, 5)
    missing = lang.GraphProgram(**{**programs.bfs.__dict__, "probes": {"pi": "pi"}})
    with pytest.raises(ValueError, match="not decoded"):
        eqgat.compile_program(missing)


def test_compiled_switches_and_size():
    bfs = eqgat.compile_program(programs.bfs, 4)
    bf = eqgat.compile_program(programs.bellman_ford)
    assert not bfs.processor.use_ln and not bfs.processor.use_edge_info and not bfs.processor.use_pre_att_bias
    assert bf.processor.use_edge_info and not bf.processor.use_pre_att_bias
    n = sum(x.size for x in jax.tree.leaves(eqx.filter(bf, eqx.is_inexact_array)))
    assert n < 1200  # hidden 6: the incumbent needs a parent-change slot and three bonus features
    big = eqgat.compile_program(programs.bfs, 128)
    W = np.asarray(big.processor.W_val.weight)
    assert np.count_nonzero(W[8:]) == 0  # only the named slots are used


def test_compiled_model_is_an_ordinary_pytree(tmp_path):
    model = eqgat.compile_program(programs.bfs, 4)
    path = eqgat.save(tmp_path / "bfs.eqx", model, source="compiled")
    loaded = eqgat.load(path)
    for a, b in zip(jax.tree.leaves(model), jax.tree.leaves(loaded), strict=True):
        np.testing.assert_array_equal(a, b)
    batch = data.Sampler("bfs", 12, 32, seed=3, random_pos=False, p=(0.3,)).next()
    scores = []
    for scale in (0.0, 0.1, 1.0):
        leaves, tree = jax.tree.flatten(eqx.filter(model, eqx.is_inexact_array))
        keys = jax.random.split(jax.random.key(0), len(leaves))
        noisy = [x + scale * jnp.abs(x).mean() * jax.random.normal(k, x.shape) for x, k in zip(leaves, keys, strict=True)]
        perturbed = eqx.combine(jax.tree.unflatten(tree, noisy), model)
        scores.append(output_score(perturbed, predict(perturbed, batch), batch))
    assert scores[0] == 1.0 and scores[0] > scores[2] and scores[1] >= scores[2]


def test_every_problem_of_a_program_is_reported_at_once():
    bad = lang.GraphProgram(
        algorithm="bfs", hidden={"visit": lang.Flag(start="s"), "pi": lang.Pointer()},
        select=lang.Minimum(expr=lang.other.idx, mask=lang.other.pi, keep=lang.self_.pi),
        update={"visit": lang.other.visit, "pi": lang.other.idx},
        probes={"pi": "pi", "nope": "pi"},
    )
    with pytest.raises(ValueError) as err:
        eqgat.compile_program(bad)
    msg = str(err.value)
    assert "4 problems" in msg, msg
    for part in ("mask must be other.visit", "keep must be self.visit", "'nope' is not a hint or output",
                 "probes ['reach_h', 'pi_h'] of the spec are not decoded"):
        assert part in msg, msg


def test_stages_layout_and_constants():
    from eqgat.compiler import Direction, compile_stages

    st = compile_stages(programs.bellman_ford)
    assert st.layout.H == (Direction("visit", "value"), Direction("dist", "take"), Direction("dist", "delta"),
                           Direction("pi", "take"), Direction("pi", "self"))
    assert st.layout.Z == ("value", "id", "penalty", "parent", "parent:leak", "parent:cancel")
    assert st.layout.E == ("edge:A", "edge:adj", "edge:parent") and st.layout.hidden_size == 6
    assert st.layout.slots("dist") == [1]  # the delta slot is not part of the distance
    c = st.constants
    assert c.L == 2.0**30 and c.K == c.value_bound + 1 and c.bonus > c.eps > 0
    assert compile_stages(programs.bfs).constants.eps == 0.0  # keys are ids: no tie-break needed


def test_layouts_round_trip_for_both_backends():
    import json

    from eqgat.compiler import Direction, Layout, compile_artifact, compile_stages, dfs_layout

    graph = [compile_stages(programs.bellman_ford, 8).layout, compile_stages(programs.labelprop).layout,
             compile_stages(programs.bfs, mechanism="paper", nodes=8).layout]
    dfs = [dfs_layout(52), dfs_layout(128, "adj")]
    for lay in graph + dfs:
        assert Layout.from_dict(json.loads(json.dumps(lay.to_dict()))) == lay
    # every backend's artifact records its layout, as a dict and as the Layout
    for prog in (programs.bellman_ford, programs.dfs_light):
        art = compile_artifact(prog)
        assert Layout.from_dict(art.info["layout"]) == art.layout
    # one head: entry k is row k; DFS: head h's block starts at h·(hidden_size / 4)
    assert graph[0].H_rows == list(range(len(graph[0].H))) and "heads" not in graph[0].to_dict()
    big = dfs[1]
    assert big.h("found") == 0 and big.h("pushed_a") == 32 and big.h("newroot") == 64 and big.h("pv_read") == 96
    assert big.z("move:cur") == 32 and big.omega_of("root:id") == (2, 3) and big.E == ("edge:adj", "edge:pi_h")
    # a layout saved before heads were named (no "heads" keys) still loads, as one head
    old = {"V": ["idx", "start"], "E": ["edge:A", "edge:adj", "edge:parent"],
           "H": ["visit", "dist:take", "dist:delta", "pi:take", "pi:self"],
           "Z": ["value", "id", "penalty", "parent", "parent:leak", "parent:cancel"], "hidden_size": 8,
           "mechanism": "general"}
    lay = Layout.from_dict(old)
    assert lay == graph[0] and lay.H[2] == Direction("dist", "delta") and lay.to_dict() == old
    with pytest.raises(ValueError, match="blocks"):
        Layout.from_dict({**big.to_dict(), "hidden_size": 16})
