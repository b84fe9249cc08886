"""``eqgat.workflows.locality``: views (what one GATv2 step per hint can know at a node) and the hints
no model can decide. The tool must find nothing for BFS and Bellman-Ford, which compile
exactly; it finds the dfs_light obstruction, and a real model's hidden state agrees that
the two instances look alike to the node."""

import jax
import numpy as np

from eqgat.workflows import locality as L
from eqgat import Model, ModelConfig
from eqgat.data import concat, graph_arrays, to_batch


def _small(n_max=3):
    for n in range(2, n_max + 1):
        yield from L.directed_graphs(n)


def test_components_and_graph_enumeration():
    A = np.zeros((5, 5))
    A[0, 3] = A[4, 1] = 1
    assert L.components(A).tolist() == [0, 1, 2, 0, 1]
    assert sum(1 for _ in L.directed_graphs(3)) == 2 ** 6
    assert all(np.all(np.diag(A) == 0) for A in L.random_graphs(6, 20, seed=0))


def test_no_obstruction_for_algorithms_that_compile():
    """BFS and Bellman-Ford compile exactly, so no view can be ambiguous for them."""
    graphs = list(_small(3)) + list(L.random_graphs(5, 40, seed=1))
    und = [np.maximum(A, A.T) for A in graphs]  # these algorithms run on undirected graphs
    for algo, probes in (("bfs", ["reach_h"]), ("bellman_ford", ["msk", "d"])):
        for probe in probes:
            for hops in (None, 1):
                assert next(L.node_conflicts(algo, und, probe, hops=hops), None) is None, (algo, probe)
        for hops in (None, 1):
            assert L.choice_cycle(algo, und, "pi_h", hops=hops) is None, algo


def test_dfs_light_colour_is_undecidable():
    first, second, a, b = next(L.node_conflicts("dfs_light", L.directed_graphs(4), "color"))
    assert first.t == second.t and first.node == second.node and a != b
    vs1, _ = L.views("dfs_light", np.array(first.A, float))
    vs2, _ = L.views("dfs_light", np.array(second.A, float))
    assert vs1[first.t][first.node] == vs2[second.t][second.node]
    # a real model (any parameters; teacher forcing = an exact model's hard feedback) gives the
    # node the same hidden state and the same colour logits in both instances
    arrays = [graph_arrays("dfs_light", np.array(x.A, float)) for x in (first, second)]
    batch = to_batch("dfs_light", concat(arrays))
    for seed in range(2):
        model = Model(ModelConfig("dfs_light", hidden_size=16), key=jax.random.key(seed))
        pred = jax.vmap(lambda i, h, l: model(i, h, l, teacher_forcing=True))(batch.inputs, batch.hints, batch.length)
        k, t = first.node, first.t
        h = np.asarray(pred.hidden)[:, t, k]
        np.testing.assert_allclose(h[0], h[1], rtol=0, atol=1e-6)
        logits = np.asarray(pred.hints["color"])[:, t, k]
        np.testing.assert_allclose(logits[0], logits[1], rtol=0, atol=1e-6)
        assert np.abs(np.asarray(pred.hidden)[0, t] - np.asarray(pred.hidden)[1, t]).max() > 1e-3  # others differ


def test_dfs_has_no_obstruction_on_small_graphs():
    """CLRS dfs's mask_one hints (s, u, v, s_last) carry the global choices back to the
    chosen node: no node-level conflict and no cycle on every graph of up to 3 nodes."""
    graphs = list(_small(3))
    for probe in ("color", "d", "f"):
        assert next(L.node_conflicts("dfs", graphs, probe), None) is None, probe
    for probe in ("pi_h", "s_prev", "s", "u", "v", "s_last"):
        assert L.choice_cycle("dfs", graphs, probe) is None, probe


def test_cycles_are_found_in_must_outscore_links():
    assert L.find_cycle([(0, 1), (1, 2), (2, 3)]) is None
    assert L.find_cycle([]) is None
    cyc = L.find_cycle([(5, 0), (0, 1), (1, 2), (2, 0), (2, 4)])
    assert sorted(cyc) == [(0, 1), (1, 2), (2, 0)]
    assert all(b == c for (_, b), (c, _) in zip(cyc, cyc[1:] + cyc[:1]))  # links chain


def test_full_attention_removes_the_dfs_light_obstruction(capsys):
    """With attention over all nodes (dm-clrs' gatv2_full) one step per hint can decide
    dfs_light's hints on every graph of up to 3 nodes; the CLI says so, and that the
    default processor cannot (exit 1, naming the two instances)."""
    from eqgat.cli import main

    graphs = list(_small(3))
    assert next(L.node_conflicts("dfs_light", graphs, "color", hops=1, full=True), None) is None
    assert L.choice_cycle("dfs_light", graphs, "pi_h", hops=1, full=True) is None
    assert main(["locality", "--algo", "dfs_light", "--hops", "1", "--full"]) == 0
    assert "color: no obstruction among 68 graphs" in capsys.readouterr().out
    assert main(["locality", "--algo", "dfs_light"]) == 1
    assert "color: node 1 sees the same at hint 3" in capsys.readouterr().out
    assert main(["locality", "--algo", "dfs_light", "--full"]) == 2
    assert "give hops" in capsys.readouterr().err
