"""The compiled CLRS ``dfs`` (all nine hints, ``DepthFirst(trace="clrs")``) against
dm-clrs' trace (``eqgat.algorithms.dfs``, itself checked draw for draw against dm-clrs).

Exact means every hint step (``color``, ``pi_h``, ``s_prev``, ``d``, ``f``, ``time``,
``s``, ``u``, ``v``, ``s_last``) and the output ``pi`` of every graph; scalars within
verify's 1e-4. The construction feeds its own decoded hints back, so the tests also pin
what that buys: a state read afresh each step, which small weight changes do not break.
"""

import dataclasses
import inspect

import equinox as eqx
import jax
import numpy as np
import pytest

import eqgat
from eqgat import ModelConfig, live_steps, matches, predict
from eqgat.nn import postprocess
from eqgat import verify_algorithm as verify
from eqgat.compiler import MARGIN, TraceConstants, compile_algorithm, compile_program, dfs_trace_state
from eqgat.data import concat, graph_arrays, to_batch
from _dfs_graphs import misses, perturbed, perturbed_groups, random_graphs
from eqgat.data.families import DIRECTED_FAMILIES, directed_families
from eqgat.lang import TRACE_PARTS

DISCRETE = ("color", "pi_h", "s_prev", "s", "u", "v", "s_last", "pi")


@pytest.fixture(scope="module")
def model():
    return compile_algorithm("dfs", max_nodes=16)


def _misses(model, graphs, probes=None):
    return misses(model, "dfs", graphs, probes)


def test_exact_on_random_graphs_with_self_loops(model):
    graphs = random_graphs(48)
    assert any(np.trace(A) > 0 for A in graphs)
    assert [m for m in _misses(model, graphs) if m] == []


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16])
def test_exact_on_degenerate_shapes(model, n):
    cases = directed_families(n, random_graphs=2)
    assert {c.family for c in cases} == set(DIRECTED_FAMILIES)
    missed = {c.family: m for c, m in zip(cases, _misses(model, [c.A for c in cases])) if m}
    assert missed == {}


def test_every_directed_graph_on_up_to_3_nodes_with_margins(model):
    """Every directed graph on 1-3 nodes (69; n = 4 is the slow test below): exact, every
    decisive selection won by at least MARGIN, every flag 0 or 1 up to what the losers of
    a softmax keep (e^-2·MARGIN, ~1e-35: flags read through an attention selection)."""
    report = verify("dfs", None, [3], graphs="exhaustive", max_nodes=16, model=model)
    assert report.exact and report.near_ties == 0
    assert sum(r.total for r in report.rows if r.probe == "pi") == 1 + 4 + 64
    assert report.margins.min_logit_gap >= MARGIN
    assert report.margins.min_gate_slack == 0.5
    a = concat([graph_arrays("dfs", c.A) for c in directed_families(9)])
    hidden = np.asarray(predict(model, to_batch("dfs", a)).hidden, dtype=np.float64)
    for name in ("found", "pfound", "pushed", "popped", "finish_pop", "start", "stay_B", "take_C", "finish_B"):
        v = dfs_trace_state(hidden, name)
        assert np.abs(v - np.round(v)).max() < 1e-30, name


@pytest.mark.slow
def test_every_directed_graph_on_up_to_4_nodes():
    """Every directed graph without self-loops on 1-4 nodes (4,165 graphs)."""
    report = verify("dfs", None, graphs="exhaustive", max_nodes=8)
    assert report.exact and report.near_ties == 0
    assert sum(r.total for r in report.rows if r.probe == "pi") == 1 + 4 + 64 + 4096
    assert report.margins.min_logit_gap >= MARGIN


def test_the_hints_fed_back_are_its_own(model):
    """Fed its own decoded hints or dm-clrs' (teacher forcing), it writes the same trace:
    the state it carries from step to step is the hints. And it reads them: a wrong
    colour fed at step 0 changes what it writes."""
    rng = np.random.default_rng(3)
    a = concat([graph_arrays("dfs", (rng.random((6, 6)) < p).astype(float)) for p in (0.1, 0.3, 0.5, 0.9)])
    batch = to_batch("dfs", a)
    own = predict(model, batch)
    forced = predict(model, batch, teacher_forcing=True)
    spec = {p.name: p for p in model.spec}
    hard = lambda pred, name: np.asarray(postprocess(spec[name], pred.hints[name], hard=True))  # noqa: E731
    for name in own.hints:
        # scalars: float32 rounding of the gates (~1e-5 relative), inside verify's 1e-4
        np.testing.assert_allclose(hard(own, name), hard(forced, name), rtol=1e-4, err_msg=name)
    colour = np.array(batch.hints["color"])
    colour[:, 0] = np.eye(3)[2]  # every node black at hint 0
    wrong = predict(model, eqx.tree_at(lambda b: b.hints["color"], batch, colour))
    assert not np.array_equal(hard(wrong, "color"), hard(own, "color"))


def _discrete_ok(model, batch):
    ok = matches(model, predict(model, batch), batch)
    return all(bool(ok[name].sum() == (ok[name].size if ok[name].ndim == 1 else
                                       live_steps(np.asarray(batch.length), ok[name].shape[1]).sum()))
               for name in DISCRETE)


def test_small_weight_changes_keep_it_exact(model):
    """Not a needle: moved along random filter-normalised directions by 1e-5 (both signs),
    or one weight group alone by 1e-6, every discrete hint and the output stay exact (the
    scalars d, f, time move, by about the change)."""
    from eqgat.workflows.landscapes import landscape_batch

    batch = landscape_batch("dfs", batch_size=8)
    assert _discrete_ok(model, batch)
    for corner, moved in perturbed(model, 1e-5):
        assert _discrete_ok(moved, batch), corner
    for k, moved in perturbed_groups(model, 1e-6):
        assert _discrete_ok(moved, batch), k


def test_program_compiles_through_the_registry(model):
    program = eqgat.get_algorithm("dfs").program
    assert program.trace == "clrs" and set(program.probes.values()) >= set(TRACE_PARTS)
    assert model.config == ModelConfig("dfs", 104, 8, use_ln=False, use_edge_info=True, full_attention=True)
    assert eqgat.minimal_hidden_size(program) == 104
    big = compile_program(program, 128, max_nodes=16)
    assert big.processor.nb_heads == 8
    assert _misses(big, random_graphs(3, seed=1)[1:]) == [[]] * 2
    with pytest.raises(ValueError, match="multiple of 8"):
        compile_program(program, 108)


def test_a_broken_clrs_program_lists_every_problem():
    program = eqgat.get_algorithm("dfs").program
    probes = dict(program.probes)
    del probes["time"]  # a part nobody decodes, and a probe of the spec left out
    probes["d"] = "stack"  # a scalar cannot decode the stack link (a pointer), and "stack" twice
    broken = dataclasses.replace(program, probes=probes)
    with pytest.raises(ValueError) as err:
        compile_program(broken)
    text = str(err.value)
    for needle in ("'time'", "cannot decode the trace part 'stack'", "clock"):
        assert needle in text, needle
    with pytest.raises(ValueError, match="trace must be one of light, clrs"):
        compile_program(dataclasses.replace(program, trace="bfs"))


def test_every_constant_is_described():
    c = TraceConstants(16)
    described = c.describe()
    names = {p for p, _ in inspect.getmembers(TraceConstants, lambda v: isinstance(v, property))}  # inherited too
    names |= {f.name for f in dataclasses.fields(TraceConstants) if f.name not in ("max_nodes", "margin")}
    assert {n.upper() for n in names} <= set(described), names
    assert all(isinstance(v, float) and text for v, text in described.values())


@pytest.mark.slow
def test_verify_cli_exits_zero():
    """The issue's check: sampler graphs of 9 and 14 nodes, hidden size 128."""
    from eqgat.cli import main

    assert main(["verify", "--algo", "dfs", "--hidden-size", "128", "--lengths", "9,14", "--samples", "12",
                 "--seed", "271"]) == 0


def test_compile_cli_stores_the_layout_and_show_draws_every_probe(tmp_path, capsys, monkeypatch):
    """A compiled dfs checkpoint records its layout (8 heads); ``show`` labels from it and
    draws every encoder and decoder, the colour's three classes and the clock's graph
    decoder included."""
    import json

    import eqgat.workflows.show as show
    from eqgat import load
    from eqgat.cli import main
    from eqgat.compiler import Layout, trace_layout

    out = tmp_path / "dfs.eqx"
    assert main(["compile", "--algo", "dfs", "--max-nodes", "16", "--out", str(out)]) == 0
    assert "full attention, 8 heads" in capsys.readouterr().out
    stored = Layout.from_dict(json.loads((tmp_path / "dfs.eqx.json").read_text())["info"]["layout"])
    assert stored == trace_layout(104) and stored.heads[:5] == ("scan", "cursor", "push", "pop", "parent")
    drawn = {}
    monkeypatch.setattr(show, "_heat", lambda ax, W, rows, cols, title: drawn.setdefault(title, (rows, cols, W)))
    assert main(["show", "--checkpoint", str(out), "--out", str(tmp_path / "w.png")]) == 0
    saved = load(out)
    rows, cols, W = drawn["decoder time"]
    assert rows == ["time"] and "H':tick" in cols
    assert W[0, cols.index("H':tick")] == saved.decoders["time"].W_n.weight[0, 2 * 104 + stored.h("tick")] == 1.0
    rows, cols, W = drawn["encoder color"]
    assert cols == ["color[0]", "color[1]", "color[2]"] and W[rows.index("V:grey"), 1] == 1.0
    rows, cols, W = drawn["ω (attention heads)"]
    assert W[stored.omega_of("scan:id")[0], cols.index("ζ:scan:id")] == -TraceConstants(16).L_scan


def test_float64_and_finer_ids():
    """Under jax_enable_x64 it compiles in float64 and stays exact (every directed graph on
    up to 3 nodes, at the default and at a 4096-node resolution)."""
    with jax.enable_x64(True):
        for max_nodes in (128, 4096):
            model = compile_algorithm("dfs", options=eqgat.compiler.CompileOptions(max_nodes=max_nodes, x64=True))
            assert model.processor.omega.dtype == np.float64
            report = verify("dfs", None, [3], graphs="exhaustive", max_nodes=max_nodes, x64=True, model=model)
            assert report.exact and report.margins.min_logit_gap >= MARGIN
