"""``eqgat.certify`` (issue 34): a proof by local configurations that a compiled model is
exact on every graph of up to N nodes inside its precondition.

Soundness is checked against the model itself: every model certify certifies is exact on
every small graph and every family graph (``verify``); every deliberately broken model
(the id tie-break's ω flipped, the parent bonus removed, a gate's M too small) is refused
with a counterexample graph on which ``verify_graph`` (and ``verify --graph``) shows a miss.
"""

import subprocess
import sys
from pathlib import Path

import equinox as eqx
import numpy as np
import pytest

import eqgat
from eqgat.algorithms import get_algorithm
from eqgat.compiler import CompileOptions, compile_artifact
from eqgat.workflows.certify import flip_smallest_omega, small_gate, without_parent_bonus, write_graph
from eqgat.workflows.verification import read_graph, verify_graph

ROOT = Path(__file__).resolve().parents[1]


def _compiled(algo: str, max_nodes: int):
    art = compile_artifact(get_algorithm(algo).program, None, CompileOptions(max_nodes=max_nodes))
    return art.model, art.layout


@pytest.mark.parametrize("algo", ["bfs", "bellman_ford"])
def test_what_certify_certifies_is_exact_on_every_small_and_family_graph(algo):
    model, layout = _compiled(algo, 16)
    cert = eqgat.certify(model, max_nodes=16, layout=layout)
    assert cert.certified, str(cert)
    names = [o.name for o in cert.obligations]
    assert names[:4] == ["supported", "selection margin", "softmax leak", "gate slack"] and names[-1] == "clean state"
    assert all(o.configurations > 0 and o.worst >= 0 for o in cert.obligations[1:])
    assert str(cert).endswith("CERTIFIED") and cert.to_json()["certified"]
    pre = cert.precondition
    assert pre.id_spacing == pytest.approx(1 / 16, rel=1e-5) and "pairwise at least" in str(cert)
    if algo == "bellman_ford":  # values: a grid (the near-tie resolution) and a value bound
        assert pre.grid is not None and pre.grid <= 2.0 ** -10 and 0 < pre.value_bound <= 16
        assert "near-tie resolution" in str(cert) and "value bound" in str(cert)
    for graphs, lengths in (("exhaustive", None), ("families", [2, 5, 16])):
        report = eqgat.verify_algorithm(algo, None, lengths, graphs=graphs, max_nodes=16, model=model)
        assert report.exact and report.misses == 0, (graphs, report.rows)


def _refused(model, layout, max_nodes):
    cert = eqgat.certify(model, max_nodes=max_nodes, layout=layout, search_seconds=120)
    assert not cert.certified
    text = str(cert)
    assert "NOT CERTIFIED" in text and "counterexample: " in text
    cx = cert.counterexample
    assert cx is not None, text
    report = verify_graph(model, cx.A, cx.source)
    assert not report.exact, (text, str(report))  # verify confirms the miss
    return cert, cx


def test_flipped_tie_break_is_refused_with_a_counterexample_verify_confirms(tmp_path):
    model, layout = _compiled("bfs", 16)
    broken = flip_smallest_omega(model)
    cert, cx = _refused(broken, layout, 16)
    assert cert.violated.name == "selection margin" and cert.violated.worst < 0
    path = write_graph(tmp_path / "cx.json", cx)
    algo, A, source = read_graph(path)
    assert algo == "bfs" and np.array_equal(A, cx.A) and source == cx.source
    assert verify_graph(model, A, source).exact  # the intact model is exact there


def test_removed_parent_bonus_is_refused_with_a_counterexample_verify_confirms():
    model, layout = _compiled("bellman_ford", 16)
    cert, cx = _refused(without_parent_bonus(model, layout), layout, 16)
    assert cert.violated.name == "selection margin"
    assert verify_graph(model, cx.A, cx.source).exact


def test_too_small_gate_is_refused_with_a_counterexample_verify_confirms():
    model, layout = _compiled("bfs", 16)
    cert, cx = _refused(small_gate(model, layout), layout, 16)
    assert cert.violated.name == "gate slack" and cert.violated.worst < 0
    assert verify_graph(model, cx.A, cx.source).exact


def test_bfs_compiled_for_16_is_certified_for_128():
    """BFS's constants do not depend on --max-nodes (the key is the id itself: no id
    tie-break ε, and L, c, G are the largest the bounds allow), so the model compiled for
    16 nodes is the one compiled for 128, and certify proves it there."""
    model16, layout = _compiled("bfs", 16)
    model128, _ = _compiled("bfs", 128)
    for a, b in zip(eqx.filter(model16, eqx.is_array).processor.omega, model128.processor.omega):
        assert np.array_equal(a, b)
    assert eqgat.certify(model16, max_nodes=128, layout=layout).certified


@pytest.mark.slow
def test_bellman_ford_compiled_for_16_fails_at_128_with_a_larger_counterexample():
    """Its id tie-break ε is sized for ids 1/16 apart: at 128, exact ties between ids 1/n
    apart can round away; the counterexample has more than 16 nodes and verify confirms."""
    model, layout = _compiled("bellman_ford", 16)
    cert, cx = _refused(model, layout, 128)
    assert cx.n > 16
    assert eqgat.certify(model, max_nodes=16, layout=layout, counterexample=False).certified


@pytest.mark.slow
def test_command_line_done_criteria(tmp_path):
    """``certify --algo`` exits 0 with CERTIFIED; a BFS checkpoint with its smallest ω
    flipped makes ``certify --checkpoint`` exit 1 with a counterexample that
    ``verify --checkpoint --graph`` shows missed."""
    env = {"PYTHONPATH": str(ROOT / "src")}
    run = lambda *a: subprocess.run([sys.executable, "-m", "eqgat", *a], capture_output=True, text=True,  # noqa: E731
                                    env={**__import__("os").environ, **env}, timeout=600)
    res = run("certify", "--algo", "bfs", "--max-nodes", "128")
    assert res.returncode == 0 and res.stdout.strip().endswith("CERTIFIED"), res.stdout + res.stderr
    model, _ = _compiled("bfs", 16)
    info = compile_artifact(get_algorithm("bfs").program, None, CompileOptions(max_nodes=16)).info
    good, bad = tmp_path / "bfs.eqx", tmp_path / "bfs-flipped.eqx"
    eqgat.save(good, model, source="compiled", program="bfs", **info)
    eqgat.save(bad, flip_smallest_omega(model), source="compiled", program="bfs", **info)
    cx = tmp_path / "cx.json"
    res = run("certify", "--checkpoint", str(bad), "--counterexample", str(cx))
    assert res.returncode == 1 and "NOT CERTIFIED" in res.stdout and "counterexample: " in res.stdout, res.stdout
    assert cx.exists()
    res = run("verify", "--checkpoint", str(bad), "--graph", str(cx))
    assert res.returncode == 1 and "NOT EXACT" in res.stdout, res.stdout + res.stderr
    res = run("verify", "--checkpoint", str(good), "--graph", str(cx))
    assert res.returncode == 0 and "EXACT on this graph" in res.stdout, res.stdout + res.stderr


def test_unsupported_programs_fail_closed():
    model, layout = _compiled("labelprop", 16)  # its label pointer is read from senders (offset slots)
    cert = eqgat.certify(model, max_nodes=16, layout=layout, counterexample=False)
    assert not cert.certified and cert.violated.name == "supported"
    with pytest.raises(ValueError, match="graph programs"):
        eqgat.certify(eqgat.compile_algorithm("dfs_light"), max_nodes=8)
