"""The compiled ``dfs_light`` (``eqgat.compiler._dfs``) against the fork's reference trace.

Exact means every hint step (``color``, ``pi_h``) and the output ``pi`` of every graph,
with the margins the construction promises: every decisive selection wins by a logit gap
of at least ``MARGIN`` and every flag of the state is exactly 0 or 1.
"""

import dataclasses

import equinox as eqx
import jax
import numpy as np
import pytest

import eqgat
from eqgat import Model, ModelConfig, live_steps, matches, predict
from eqgat import verify_algorithm as verify
from eqgat.compiler import MARGIN, compile_dfs_light
from eqgat.compiler import dfs_state as read_state
from eqgat.data import concat, graph_arrays, to_batch
from _dfs_graphs import misses, perturbed, perturbed_groups, random_graphs
from eqgat.data.families import DIRECTED_FAMILIES, directed_families


@pytest.fixture(scope="module")
def model():
    return compile_dfs_light(max_nodes=16)


def _misses(model, graphs, probes=None):
    return misses(model, "dfs_light", graphs, probes)


def test_exact_on_random_graphs(model):
    graphs = random_graphs(48)
    assert [m for m in _misses(model, graphs) if m] == []


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16])
def test_exact_on_degenerate_shapes(model, n):
    cases = directed_families(n, random_graphs=2)
    assert {c.family for c in cases} == set(DIRECTED_FAMILIES)
    missed = {c.family: m for c, m in zip(cases, _misses(model, [c.A for c in cases])) if m}
    assert missed == {}


def test_margins_and_clean_state(model):
    """Every flag of the state is exactly 0 or 1 at every step, and the selections that
    decide something win by at least MARGIN (``verify`` reports the same margins)."""
    report = verify("dfs_light", None, [5, 16], graphs="families", max_nodes=16, model=model)
    assert report.exact and report.near_ties == 0
    assert report.margins.min_gate_slack == 0.5
    assert report.margins.min_logit_gap >= MARGIN
    assert report.margins.selections > 500
    # the state after each step, read directly: flags in {0, 1}
    a = concat([graph_arrays("dfs_light", c.A) for c in directed_families(9)])
    hidden = np.asarray(predict(model, to_batch("dfs_light", a)).hidden, dtype=np.float64)
    for name in ("cur", "found", "begun", "pushed", "popto", "newroot", "root0", "start", "finish"):
        v = read_state(hidden, name)
        assert np.all((v == 0) | (v == 1)), name


def test_every_directed_graph_on_up_to_3_nodes(model):
    """Every directed graph without self-loops on 1-3 nodes (69 graphs; n = 4 is
    ``test_exhaustive_directed_graphs``, marked slow)."""
    from eqgat.data.families import exhaustive_directed

    graphs = [c.A for c in exhaustive_directed(3)]
    assert len(graphs) == 1 + 4 + 64
    assert [m for m in _misses(model, graphs) if m] == []


@pytest.mark.slow
def test_exhaustive_directed_graphs():
    """Every directed graph without self-loops on 1-4 nodes (4,165 graphs; 12 s)."""
    report = verify("dfs_light", None, graphs="exhaustive", max_nodes=8)
    assert report.exact and report.near_ties == 0
    assert sum(r.total for r in report.rows if r.probe == "pi") == 1 + 4 + 64 + 4096
    assert report.margins.min_logit_gap >= MARGIN


def test_ids_closer_than_the_resolution_are_reported_as_near_ties():
    """Random training ids (sorted uniform) can be closer than 1/max_nodes: those graphs
    are outside the claim and counted as near-ties, never as silent passes."""
    report = verify("dfs_light", None, [16], samples=8, max_nodes=16)
    train = [r for r in report.rows if r.distribution == "train"]
    test = [r for r in report.rows if r.distribution == "test"]
    assert all(r.correct == r.total for r in test)
    assert report.margins.near_tie_graphs > 0
    assert all(r.correct + r.near_tie == r.total for r in train)


def _exact(model, batch) -> bool:
    ok = matches(model, predict(model, batch), batch)
    live = live_steps(np.asarray(batch.length), ok["color"].shape[1])
    return all(bool(np.all(v | ~live) if v.ndim == 2 else np.all(v)) for v in ok.values())


def test_small_weight_changes_keep_it_exact(model):
    """Not a needle: moved along random filter-normalised directions by 1e-5 (both signs),
    or one weight group alone by 1e-5, every hint step and the output stay exact (the
    construction before the fed-back pointer lost its score at 1e-7: its id bumps
    cancelled logit terms of ~1e9)."""
    from eqgat.workflows.landscapes import landscape_batch

    batch = landscape_batch("dfs_light", batch_size=8)
    assert _exact(model, batch)
    for corner, moved in perturbed(model, 1e-5):
        assert _exact(moved, batch), corner
    # and it does break further out: the check can fail
    assert not all(_exact(moved, batch) for _, moved in perturbed(model, 1e-2))
    for k, moved in perturbed_groups(model, 1e-5, which=1):
        assert _exact(moved, batch), k


def test_float64_and_finer_ids():
    """Under jax_enable_x64 it compiles in float64 and stays exact (every directed graph on
    up to 3 nodes, at the default and at a 4096-node resolution)."""
    from eqgat.compiler import CompileOptions, compile_algorithm

    with jax.enable_x64(True):
        for max_nodes in (128, 4096):
            model = compile_algorithm("dfs_light", options=CompileOptions(max_nodes=max_nodes, x64=True))
            assert model.processor.omega.dtype == np.float64
            report = verify("dfs_light", None, [3], graphs="exhaustive", max_nodes=max_nodes, x64=True, model=model)
            assert report.exact and report.margins.min_logit_gap >= MARGIN


def test_full_attention_is_needed(model):
    """The same weights with attention along edges only (CLRS GATv2): on a graph of
    isolated nodes no node can learn that the others are finished (eqgat.workflows.locality), and
    the model goes wrong."""
    config = model.config.replace(full_attention=False)
    skeleton = eqx.filter_eval_shape(lambda: Model(config, key=jax.random.key(0)))
    masked = jax.tree.unflatten(jax.tree.structure(skeleton), jax.tree.leaves(model))
    assert masked.processor.full_attention is False
    assert _misses(masked, [np.zeros((3, 3))]) != [[]]
    assert _misses(model, [np.zeros((3, 3))]) == [[]]


def test_hidden_size_checked():
    with pytest.raises(ValueError, match="multiple of 4"):
        compile_dfs_light(eqgat.minimal_hidden_size(eqgat.programs.dfs_light) + 2)
    with pytest.raises(ValueError, match="at least"):
        compile_dfs_light(8)
    big = compile_dfs_light(128, max_nodes=16)
    assert big.config == ModelConfig("dfs_light", 128, 4, use_ln=False, use_edge_info=True, full_attention=True)
    assert _misses(big, random_graphs(3, seed=1)[1:]) == [[]] * 2


def test_verify_cli_exits_zero(capsys):
    from eqgat.cli import main

    assert main(["verify", "--algo", "dfs_light", "--lengths", "4,8", "--samples", "4", "--max-nodes", "16"]) == 0
    assert "EXACT" in capsys.readouterr().out


def test_program_reads_like_the_algorithm_and_compiles_through_compile_program(model):
    from eqgat import programs
    from eqgat.compiler import compile_program
    from eqgat.lang import Colour, DepthFirst, Minimum, Pointer, edge, other

    written = DepthFirst(
        algorithm="dfs_light",
        hidden={"colour": Colour(), "parent": Pointer()},
        next=Minimum(expr=other.idx, mask=(other.white, edge.adj)),
        root=Minimum(expr=other.idx, mask=other.white),
        probes={"color": "colour", "pi_h": "parent", "pi": "parent"},
    )
    assert written == programs.dfs_light
    compiled = compile_program(written, max_nodes=16)
    same = jax.tree.map(lambda a, b: bool(np.array_equal(a, b)), eqx.filter(compiled, eqx.is_array),
                        eqx.filter(model, eqx.is_array))
    assert all(jax.tree.leaves(same))


def test_a_broken_program_lists_every_problem():
    from eqgat.compiler import analyse, analyse_depth_first
    from eqgat.lang import Colour, DepthFirst, Minimum, Pointer, Scalar, edge, other

    bad = DepthFirst(
        algorithm="dfs_light",
        hidden={"colour": Colour(), "parent": Pointer(), "d": Scalar()},
        next=Minimum(expr=other.d, mask=(other.white, edge.A)),
        root=Minimum(expr=other.idx, mask=(other.white, edge.adj)),
        probes={"color": "parent", "pi_h": "parent"},
    )
    with pytest.raises(ValueError) as err:
        analyse_depth_first(bad)
    text = str(err.value)
    for needle in ("one Colour and one Pointer", "expr=other.idx", "edge.A is not an edge mask input",
                   "lowest white node anywhere", "cannot decode the parent", "['pi'] of the spec are not decoded"):
        assert needle in text, needle
    with pytest.raises(TypeError, match="DepthFirst"):
        analyse(bad)
    from eqgat import programs
    from eqgat.compiler import compile_program

    # the depth-first backend takes max_nodes and x64: every other option is named in one error
    with pytest.raises(ValueError, match="depth-first backend .*own constants.* does not take scale, mechanism, nodes: drop"):
        compile_program(programs.dfs_light, scale=2, mechanism="paper", nodes=4)
    with pytest.raises(ValueError, match="needs jax_enable_x64"):
        compile_program(programs.dfs_light, x64=True)
    # the light construction reads its colour and parent back from the hints: a program without them says so
    no_hint = dataclasses.replace(programs.dfs_light, probes={"color": "colour", "pi": "parent"})
    with pytest.raises(ValueError, match="one hint each .* parent hints \\[\\]"):
        analyse_depth_first(no_hint)


def test_compile_cli_writes_a_checkpoint_show_can_draw(tmp_path, capsys, monkeypatch):
    from eqgat import load
    from eqgat.cli import main

    out = tmp_path / "dfs.eqx"
    assert main(["compile", "--algo", "dfs_light", "--max-nodes", "16", "--out", str(out)]) == 0
    assert "exact on graphs of up to 16 nodes" in capsys.readouterr().out
    saved = load(out)
    assert saved.config.full_attention and saved.config.nb_heads == 4
    import eqgat.workflows.show as show

    drawn = {}
    heat = show._heat
    monkeypatch.setattr(show, "_heat", lambda ax, W, rows, cols, title: drawn.setdefault(title, np.asarray(W))
                        is not None and heat(ax, W, rows, cols, title))
    assert main(["show", "--checkpoint", str(out), "--out", str(tmp_path / "w.png")]) == 0
    assert (tmp_path / "w-aux.png").exists()
    # the aux figure draws the checkpoint's probes: the pointer decoder's eq.-31 weights
    np.testing.assert_array_equal(drawn["pi W3 (eq. 31)"], np.asarray(saved.decoders["pi"].W3.weight)[:, :3])
    assert drawn["pi W3 (eq. 31)"].any()
    assert main(["compile", "--algo", "dfs_light", "--scale", "2", "--out", str(tmp_path / "x.eqx")]) == 2
    assert "own constants" in capsys.readouterr().err


def test_a_compiled_checkpoint_stores_its_layout_and_show_labels_from_it(tmp_path, monkeypatch):
    import json

    import eqgat.workflows.show
    from eqgat.cli import main
    from eqgat.compiler import Layout, dfs_layout

    out = tmp_path / "dfs.eqx"
    assert main(["compile", "--algo", "dfs_light", "--max-nodes", "16", "--out", str(out)]) == 0
    meta_path = tmp_path / "dfs.eqx.json"
    meta = json.loads(meta_path.read_text())
    stored = Layout.from_dict(meta["info"]["layout"])
    assert stored == dfs_layout(eqgat.minimal_hidden_size(eqgat.programs.dfs_light))
    assert stored.heads == ("scan", "move", "root", "parent") and stored.nb_heads == 4
    # rename a slot and a feature in the stored layout: show's labels must follow the JSON
    lay = meta["info"]["layout"]
    lay["H"] = ["found_v" if h == "found" else h for h in lay["H"]]
    lay["Z"] = ["scan:pen" if z == "scan:penalty" else z for z in lay["Z"]]
    meta_path.write_text(json.dumps(meta))
    drawn = []
    monkeypatch.setattr(eqgat.workflows.show, "_heat", lambda ax, W, rows, cols, title: drawn.append((title, rows, cols, W)))
    assert main(["show", "--checkpoint", str(out), "--out", str(tmp_path / "w.png")]) == 0
    panels = {title: (rows, cols, W) for title, rows, cols, W in drawn}
    renamed = Layout.from_dict(lay)
    H = [f"H:{h}" for h in lay["H"]]
    Z = [f"ζ:{z}" for z in lay["Z"]]
    rows, cols, W = panels["W_val (values ν)"]
    assert rows == H and cols == ["V:idx", "V:white", "V:grey", "V:black"] + H and "H:found_v" in rows
    assert panels["W_out (sender j)"][0] == Z and "ζ:scan:pen" in Z
    rows, cols, om = panels["ω (attention heads)"]
    assert cols == Z and rows == [f"ω head {h} ({n})" for h, n in enumerate(renamed.heads)]
    # the values drawn sit at the stored layout's rows: the scan penalty's ω is -M_scan
    model = eqgat.load(out)
    head, k = renamed.omega_of("scan:pen")
    assert om[head, Z.index("ζ:scan:pen")] == model.processor.omega[head, k] == -eqgat.compiler.DfsConstants(16).M_scan
    assert np.array_equal(W, np.asarray(model.processor.W_val.weight)[renamed.H_rows][:, [0, 1, 2, 3] + [
        model.hidden_size + r for r in renamed.H_rows]])


def test_every_dfs_constant_is_described():
    import dataclasses
    import inspect

    from eqgat.compiler import DfsConstants

    const = DfsConstants(16)
    table = const.describe()
    names = [f.name for f in dataclasses.fields(DfsConstants) if f.name != "max_nodes"]
    names += [n for n, _ in inspect.getmembers(DfsConstants, lambda v: isinstance(v, property))]  # inherited too
    assert sorted(n.upper() for n in names) == sorted(table)
    for n in names:
        value, reason = table[n.upper()]
        assert value == getattr(const, n) and len(reason) > 30, n
