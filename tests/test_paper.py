"""The paper's compiled mechanism (issue 14): a node with nothing to update attends to
itself through B = k·I. Exact for BFS and Bellman-Ford at N = 16 in float32 (and every
graph on 5 nodes at N = 5), with its margins; its α* is the self-default one; bad input
is a clear error."""

import json

import jax
import numpy as np
import pytest

import eqgat
from eqgat import programs
from eqgat import predict
from eqgat.compiler import MARGIN, compile_stages
from eqgat.data import graph_arrays, to_batch
from eqgat import verify_algorithm as verify


def _exact(report):
    misses = [(r.length, r.distribution, r.probe, r.total - r.correct - r.near_tie) for r in report.rows
              if r.correct + r.near_tie != r.total]
    assert not misses and report.exact, misses
    m = report.margins
    assert m.selections > 0 and m.min_logit_gap >= MARGIN and m.min_gate_slack == 0.5 and m.max_rounding_ratio < 0.5, m


@pytest.mark.parametrize("algo", ["bfs", "bellman_ford"])
def test_paper_mechanism_is_exact_at_16_nodes_and_on_every_graph_of_5(algo):
    for graphs, samples in (("families", 64), ("sampler", 16)):
        report = verify(algo, None, (16,), samples, graphs=graphs, mechanism="paper", nodes=16)
        assert report.mechanism == "paper" and {r.length for r in report.rows} == {16}
        _exact(report)
        if graphs == "families":
            assert report.near_ties == 0  # ids i/16 and exact ties: nothing near
    for N in (5, 1, 3):  # every graph on exactly N nodes, one node included
        report = verify(algo, None, graphs="exhaustive", mechanism="paper", nodes=N)
        assert {r.length for r in report.rows} == {N}
        assert report.exact and report.near_ties == 0 and sum(r.total for r in report.rows) > 0
        if N > 1:  # one node has nothing to select between: no margins to check
            _exact(report)
    _exact(verify(algo, None, (16,), 8, graphs="families", mechanism="paper", nodes=16, scale=10))


def test_paper_alpha_is_the_self_default():
    """On a path 0-1-...-7 from node 0: at step t the frontier node t + 1 attends to node t,
    and every other node (reached, or with no reached neighbour) attends to itself."""
    n = 8
    A = np.zeros((n, n))
    for i in range(n - 1):
        A[i, i + 1] = A[i + 1, i] = 1.0
    for algo in ("bfs", "bellman_ford"):
        paper = compile_stages(programs.PROGRAMS[algo], mechanism="paper", nodes=n).build()
        general = eqgat.compile_program(programs.PROGRAMS[algo])
        assert paper.config.use_pre_att_bias and paper.config.nb_nodes == n
        np.testing.assert_array_equal(np.asarray(paper.processor.B), 16.0 * np.eye(n))
        batch = to_batch(algo, graph_arrays(algo, A, source=0), np.float32)
        a_paper = np.asarray(predict(paper, batch).alpha[0, :, 0])  # [T-1, i, j]
        a_general = np.asarray(predict(general, batch).alpha[0, :, 0])
        for t in range(n - 1):
            want = np.arange(n)
            want[t + 1] = t
            np.testing.assert_array_equal(a_paper[t], np.eye(n)[want])  # exactly one-hot
        # the general mechanism keeps a reached node by re-selecting (BFS: its lowest-id
        # reached neighbour; Bellman-Ford: its parent), not itself
        assert not np.array_equal(a_general[1], a_paper[1])


def test_paper_mechanism_bad_input_is_a_clear_error(tmp_path, capsys, monkeypatch):
    from eqgat.cli import main

    assert main(["compile", "--algo", "bfs", "--mechanism", "paper", "--out", str(tmp_path / "x.eqx")]) == 2
    assert "needs --nodes N" in capsys.readouterr().err
    assert main(["compile", "--algo", "bfs", "--nodes", "16", "--out", str(tmp_path / "x.eqx")]) == 2
    assert "--nodes fixes the graph size of the paper's mechanism" in capsys.readouterr().err
    assert main(["compile", "--algo", "bfs", "--mechanism", "paper", "--nodes", "16", "--max-nodes", "64",
                 "--out", str(tmp_path / "x.eqx")]) == 2  # the general mechanism's size flag: refused, not ignored
    assert "drop --max-nodes" in capsys.readouterr().err
    assert main(["verify", "--algo", "bfs", "--mechanism", "paper", "--nodes", "16", "--lengths", "8"]) == 2
    assert "runs on graphs of exactly --nodes 16 nodes" in capsys.readouterr().err
    out = tmp_path / "bf-paper.eqx"
    assert main(["compile", "--algo", "bellman_ford", "--mechanism", "paper", "--nodes", "16", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "exactly 16 nodes (the paper's mechanism" in said and "c = 1000" in said and "max |θ| = " in said
    meta = json.loads(out.with_name(out.name + ".json").read_text())
    assert meta["info"]["mechanism"] == "paper" and meta["info"]["layout"]["mechanism"] == "paper"
    assert main(["evaluate", "--checkpoint", str(out), "--length", "64"]) == 2  # a graph of the wrong size
    assert "B of size 16x16" in capsys.readouterr().err
    assert main(["evaluate", "--checkpoint", str(out), "--length", "16"]) == 0
    assert "score 100.00%" in capsys.readouterr().out  # the compiled model is exact at its own size
    assert main(["show", "--checkpoint", str(out), "--out", str(tmp_path / "w.png")]) == 0
    import eqgat.workflows.show as show

    drawn = {}
    heat = show._heat
    monkeypatch.setattr(show, "_heat", lambda ax, W, rows, cols, title: drawn.setdefault(title, (rows, np.asarray(W)))
                        and heat(ax, W, rows, cols, title))
    assert main(["show", "--algo", "bfs", "--mechanism", "paper", "--nodes", "8", "--out", str(tmp_path / "b.png")]) == 0
    assert (tmp_path / "b.png").exists() and (tmp_path / "b-aux.png").exists()
    # what is drawn is the paper-mechanism model (its pointer decoder's eq.-31 weights among them)
    paper = compile_stages(programs.bfs, mechanism="paper", nodes=8).build()
    rows, W3 = drawn["pi W3 (eq. 31)"]
    np.testing.assert_array_equal(W3, np.asarray(paper.decoders["pi"].W3.weight)[:, :3])
    assert np.abs(drawn["ω (attention heads)"][1]).max() == np.abs(np.asarray(paper.processor.omega)).max()
    with pytest.raises(SystemExit):
        main(["compile", "--algo", "bfs", "--mechanism", "paper", "--nodes", "16", "--scale", "0", "--out", str(out)])
    # a paper-mechanism checkpoint loads like any other: the very weights compile wrote
    again = compile_stages(programs.bellman_ford, mechanism="paper", nodes=16).build()
    for x, y in zip(jax.tree.leaves(eqgat.load(out)), jax.tree.leaves(again), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
