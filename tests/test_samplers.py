"""eqgat's TensorFlow-free samplers reproduce dm-clrs' draw for draw."""

import subprocess
import sys

import numpy as np

import eqgat
import pytest

from eqgat import data


def _same(a: data.Arrays, b: data.Arrays):
    for part in ("inputs", "hints", "outputs"):
        x, y = getattr(a, part), getattr(b, part)
        assert set(x) == set(y), part
        for k in x:
            assert x[k].shape == y[k].shape, (part, k)
            np.testing.assert_array_equal(x[k], y[k], err_msg=f"{part} {k}")
    np.testing.assert_array_equal(a.lengths, b.lengths)


@pytest.mark.parametrize("algo", ["bfs", "bellman_ford", "dfs", "bfs_seq", "dfs_light"])
def test_on_the_fly_batches_match_dm_clrs_draw_for_draw(algo):
    n = 6 if algo == "bfs_seq" else 7
    for warm_up in (True, False):  # with dm-clrs' 1000-graph warm-up and without
        pytest.importorskip("clrs")
        ours = data.Sampler(algo, n, 5, seed=11, warm_up=warm_up, random_pos=False)
        theirs = data.Sampler(algo, n, 5, seed=11, warm_up=warm_up, random_pos=False, backend="clrs")
        for _ in range(3):
            _same(ours.next_arrays(), theirs.next_arrays())


@pytest.mark.parametrize("algo", ["bfs", "bellman_ford", "dfs"])
def test_clrs30_splits_match_dm_clrs(algo):
    pytest.importorskip("clrs")
    a = data.clrs30_split(algo, "val", length=8)
    b = data.clrs30_split(algo, "val", length=8, backend="clrs")
    for part in ("inputs", "hints", "outputs"):
        for k, v in getattr(a, part).items():
            np.testing.assert_array_equal(np.asarray(v), np.asarray(getattr(b, part)[k]), err_msg=k)
    np.testing.assert_array_equal(np.asarray(a.length), np.asarray(b.length))


def test_sampling_imports_no_tensorflow():
    code = ("import sys; from eqgat import data; data.Sampler('dfs', 5, 2, seed=0).next(); "
            "data.clrs30_split('bfs', 'val', length=5); "
            "assert 'clrs' not in sys.modules and 'tensorflow' not in sys.modules, sorted(sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    with pytest.raises(ValueError, match="unknown data backend"):
        data.Sampler("bfs", 5, 2, seed=0, backend="tf")


@pytest.mark.parametrize("algo", ["bfs", "bellman_ford", "dfs"])
def test_traces_of_degenerate_graphs_match_dm_clrs(algo):
    # every family of degenerate and tied graphs (no edges, paths, stars, complete graphs,
    # equal weights, ...) on 5 nodes: the reference traces equal dm-clrs' own
    clrs = pytest.importorskip("clrs")
    from clrs._src import algorithms, probing

    from eqgat.data.families import families

    alg = eqgat.get_algorithm(algo)
    for case in families(5, seed=0):
        A = case.A if alg.weighted else (case.A != 0).astype(float)
        args = (A, case.source) if alg.has_source else (A,)
        inputs, hints, outputs = alg.trace(*args)
        _, probes = getattr(algorithms, algo)(*args)
        inp, outp, hint = probing.split_stages(probes, clrs.SPECS[algo])
        for dp in hint:
            np.testing.assert_array_equal(np.stack([h[dp.name] for h in hints]), dp.data[:, 0], err_msg=dp.name)
        for dp in inp + outp:
            np.testing.assert_array_equal({**inputs, **outputs}[dp.name], dp.data[0], err_msg=dp.name)
