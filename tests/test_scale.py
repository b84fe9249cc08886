"""The constants' scale (issue 14): S times the smallest selection and decoder constants the
documented bounds allow, exact at S = 1, 2 and 10, with max |θ| printed by ``compile``."""

import json

import jax
import numpy as np
import pytest

import eqgat
from eqgat import programs
from eqgat.compiler import MARGIN, SAFETY, analyse, constants
from eqgat import verify_algorithm as verify


@pytest.mark.parametrize("algo", ["bfs", "bellman_ford", "labelprop"])
def test_smallest_constants_meet_their_bounds_and_half_of_them_would_not(algo):
    plan = analyse(programs.PROGRAMS[algo])
    for n in (16, 128):
        one = constants(plan, max_nodes=n, scale=1)
        assert one.L == one.L_min and one.C_pointer == SAFETY * MARGIN * n and one.G_flag == 2 * SAFETY * MARGIN
        if algo == "bellman_ford":  # scalar values: the margin costs no more resolution than rounding does
            assert MARGIN / one.L <= one.rounding < MARGIN / (one.L / 2)
        else:  # values on the id grid, 1/n apart: SAFETY x the resolution fits in 1/n, and not at L/2
            assert SAFETY * one.resolution <= 1 / n
            u_half = one.rounding + MARGIN / (one.L / 2)
            assert SAFETY * one.resolution * u_half / (one.rounding + MARGIN / one.L) > 1 / n
        for S in (2, 10):
            c = constants(plan, max_nodes=n, scale=S)
            assert (c.L, c.C_pointer, c.G_flag) == (S * one.L, S * one.C_pointer, S * one.G_flag)
            assert c.resolution <= one.resolution
        default = constants(plan, max_nodes=n)  # unchanged: the largest L, c = 1e6, G = 100
        assert default.scale is None and default.L == default.L_max and default.C_pointer == 1e6
        assert "smallest" in default.describe()["SCALE"][1]


def test_bad_scales_are_clear_errors():
    plan = analyse(programs.bfs)
    for bad in (0, 0.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="scale must be a number >= 1"):
            constants(plan, scale=bad)
    with pytest.raises(ValueError, match="the largest scale for this program at 128 nodes is 8192"):
        constants(plan, scale=8193)


@pytest.mark.parametrize("algo", ["bfs", "bellman_ford"])
def test_scaled_models_are_exact_on_families_and_small_graphs(algo):
    for S, graph_sets in ((1, ("families", "exhaustive")), (2, ("families",)), (10, ("families",))):
        for graphs in graph_sets:  # every 5-node graph at the thinnest margins (S = 1)
            report = verify(algo, None, (2, 5, 16) if graphs == "families" else None, graphs=graphs, max_nodes=16,
                            scale=S)
            misses = [(r.length, r.distribution, r.probe, r.total - r.correct) for r in report.rows if r.correct != r.total]
            assert not misses, (S, graphs, misses)
            assert report.near_ties == 0 and report.scale == S
            m = report.margins
            assert m.min_logit_gap >= MARGIN and m.min_gate_slack == 0.5 and m.max_rounding_ratio < 0.5, (S, m)


def test_compile_cli_scale_prints_max_theta_and_records_it(tmp_path, capsys):
    from eqgat.cli import main

    out = tmp_path / "bfs-s2.eqx"
    assert main(["compile", "--algo", "bfs", "--scale", "2", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    model = eqgat.load(out)
    biggest = max(float(np.max(np.abs(np.asarray(x)))) for x in jax.tree.leaves(model) if hasattr(x, "shape"))
    assert f"max |θ| = {biggest:.4g}" in said and "scale 2 x the smallest" in said
    meta = json.loads(out.with_name(out.name + ".json").read_text())
    assert meta["info"]["scale"] == 2.0 and meta["info"]["constants"]["L"] == 2 * 8192
    for args, message in ((["--scale", "0"], "must be a finite number >= 1"),
                          (["--scale", "9000"], "the largest scale for this program at 128 nodes is 8192")):
        with pytest.raises(SystemExit) if args[1] == "0" else _no_raise():
            code = main(["compile", "--algo", "bfs", *args, "--out", str(tmp_path / "x.eqx")])
            assert code == 2
        assert message in capsys.readouterr().err
    assert main(["verify", "--algo", "bfs", "--graphs", "families", "--lengths", "5", "--max-nodes", "16",
                 "--scale", "10"]) == 0
    assert "scale 10 (L = 10240)" in capsys.readouterr().out


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
