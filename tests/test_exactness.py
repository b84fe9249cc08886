"""Compiled programs are exact on every input a user may give, not only on the sampler:
graph families with exact ties and degenerate shapes, and every graph on up to 5 nodes,
at the minimal hidden size and at 128, in float32 and float64; with the margins by which
they held. BFS and Bellman-Ford against dm-clrs (``eqgat.verify``), label propagation
against its plain-Python reference."""

import jax
import numpy as np
import pytest

import eqgat
from eqgat import data, programs
from eqgat.compiler import MARGIN, analyse, constants
from eqgat import live_steps, matches, predict
from eqgat.data.families import FAMILIES, exhaustive, families
from eqgat import verify_algorithm as verify

SIZES = (2, 5, 16)  # 16: the 4x4 grid of issue 11 (sources 0, 5 and 15)


def _x64(flag: bool):
    return jax.enable_x64(flag)


# hidden 128 in float64 (the same slots, more zeros, finer constants) is slow: pytest -m slow
PRECISION_SIZE = [(False, None), (True, None), (False, 128), pytest.param(True, 128, marks=pytest.mark.slow)]
PRECISION_SIZE_IDS = ["minimal-float32", "minimal-float64", "h128-float32", "h128-float64"]


@pytest.mark.parametrize(("x64", "hidden"), PRECISION_SIZE, ids=PRECISION_SIZE_IDS)
@pytest.mark.parametrize("algo", ["bfs", "bellman_ford"])
def test_exact_on_every_family_and_every_small_graph(algo, hidden, x64):
    with _x64(x64):
        for graphs in ("families", "exhaustive"):
            # exhaustive: every graph on up to 5 nodes (its default; lengths would set the largest)
            report = verify(algo, hidden, SIZES if graphs == "families" else None, graphs=graphs, x64=x64,
                            max_nodes=16)
            misses = [(r.length, r.distribution, r.probe, r.total - r.correct) for r in report.rows if r.correct != r.total]
            assert not misses, f"{graphs}: {misses}"
            assert report.near_ties == 0  # weights exact in binary: every tie is exact
            m = report.margins
            assert m.selections > 0 and m.min_logit_gap >= MARGIN, m
            assert m.min_gate_slack == 0.5, m  # every gate exactly 0 or 1
            assert m.max_rounding_ratio < 0.5, m
            if graphs == "families":  # every family ran
                assert {r.distribution for r in report.rows} == set(FAMILIES)


def _labelprop_batch(cases, rng, dtype):
    """One batch of label-propagation graphs of one size: seeds at the case's source and,
    for every other graph, a second node."""
    arrays = []
    for k, c in enumerate(cases):
        seeds = np.zeros(c.n)
        seeds[c.source] = 1
        if k % 2:
            seeds[rng.integers(c.n)] = 1
        arrays.append(programs.labelprop_arrays(c.A, seeds))
    return data.to_batch("labelprop", data.concat(arrays), dtype)


@pytest.mark.parametrize(("x64", "hidden"), PRECISION_SIZE, ids=PRECISION_SIZE_IDS)
def test_labelprop_exact_on_every_family_and_every_small_graph(hidden, x64):
    rng = np.random.default_rng(0)
    with _x64(x64):
        model = eqgat.compile_program(programs.labelprop, hidden, max_nodes=16, x64=x64)
        groups = [families(n, seed=n) for n in SIZES]
        by_n: dict[int, list] = {}
        for c in exhaustive(5):
            by_n.setdefault(c.n, []).append(c)
        for cases in groups + list(by_n.values()):
            batch = _labelprop_batch(cases, rng, np.float64 if x64 else np.float32)
            ok = matches(model, predict(model, batch), batch)
            live = live_steps(np.asarray(batch.length), batch.trace_length - 1)
            for name, m in ok.items():
                want = live if m.ndim == 2 else np.ones_like(m)
                bad = np.argwhere(m != want)
                assert not bad.size, f"{name} wrong on {[cases[i].family for i in bad[:, 0]][:3]} (n={cases[0].n})"


def test_resolution_is_documented_and_shrinks_with_max_nodes():
    plan = analyse(programs.bellman_ford)
    f32 = constants(plan)
    f64 = constants(plan, x64=True)
    assert f32.max_nodes == 128 and f32.resolution <= 1e-3
    assert f64.resolution <= 1e-9
    assert constants(plan, max_nodes=16).resolution < f32.resolution / 4
    table = f32.describe()
    assert table["RESOLUTION"][0] == f32.resolution and "exact ties" in table["RESOLUTION"][1].lower()
    assert eqgat.CONSTANTS["RESOLUTION"][0] == f32.resolution
    # exact ties 1/N apart are separated by more than the rounding they must survive
    assert f32.L * (f32.eps / 128 - f32.rounding) >= MARGIN
    with pytest.raises(ValueError, match="max_nodes must be a positive integer"):
        constants(plan, max_nodes=0)


def test_x64_compile_needs_x64_enabled():
    with _x64(False), pytest.raises(ValueError, match="jax_enable_x64"):
        eqgat.compile_program(programs.bfs, x64=True)
