"""Paths of the command lines and of landscape that no other test takes (issue 30): the
demo's exit status, ``train --init-noise`` and its errors, ``landscape.interpolate``."""

import types

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import eqgat
import landscape


def _fake_demo(monkeypatch, exact: bool) -> dict:
    """The demo's three stages replaced by stand-ins (the real ones take minutes); returns
    what they were called with."""
    import eqgat.workflows.landscapes as landscapes
    import eqgat.workflows.show as show
    import eqgat.workflows.verification as verification

    calls = {}

    def verify_algorithm(algo, hidden, lengths, **kw):
        calls["verify"] = (algo, hidden, lengths, kw)
        return types.SimpleNamespace(exact=exact)

    def draw(algo, hidden, out):
        calls["draw"] = (algo, hidden, out)
        return [out]

    def plot_around(spec, algo, out, **kw):
        calls["plot"] = (spec, algo, out, kw)
        return out.with_suffix(".npz"), out

    monkeypatch.setattr(verification, "verify_algorithm", verify_algorithm)
    monkeypatch.setattr(verification, "format_table", lambda report: "TABLE")
    monkeypatch.setattr(show, "draw", draw)
    monkeypatch.setattr(landscapes, "plot_around", plot_around)
    return calls


@pytest.mark.parametrize("exact", [True, False])
def test_demo_exits_1_when_the_compiled_model_is_not_exact(tmp_path, capsys, monkeypatch, exact):
    from eqgat.cli import main

    calls = _fake_demo(monkeypatch, exact)
    assert main(["demo", "--out", str(tmp_path)]) == (0 if exact else 1)
    text = capsys.readouterr().out
    if exact:
        assert "BFS compiled model is EXACT" in text and "NOT exact" not in text
    else:
        assert "BFS compiled model is NOT exact" in text
    assert "TABLE" in text and "3/3" in text  # every stage still runs
    assert calls["verify"][:3] == ("bfs", 4, [16, 64])
    assert calls["draw"] == ("bfs", 4, str(tmp_path / "bfs-weights.png"))
    spec, algo, out, kw = calls["plot"]
    assert (spec, algo, out) == ("compiled", "bfs", tmp_path / "bfs-landscape.png")
    assert kw["grid"] == (11, 11) and kw["span"] == ("general", (-1.0, 1.0))


def test_train_init_noise_moves_the_start_and_its_errors(tmp_path, capsys):
    from eqgat.cli import main
    from eqgat.workflows.training import TrainConfig, initial_models, unstack

    compiled = eqgat.compile_algorithm("bfs")
    ckpt = eqgat.save(tmp_path / "c.eqx", compiled)
    assert main(["train", "--algo", "bfs", "--init-noise", "0.1", "--steps", "1", "--out", str(tmp_path / "a")]) == 2
    assert "init_noise perturbs an --init checkpoint: give one" in capsys.readouterr().err
    assert main(["train", "--algo", "bfs", "--init", str(ckpt), "--init-noise", "-0.5", "--steps", "1",
                 "--out", str(tmp_path / "b")]) == 2
    assert "init_noise must be a finite σ >= 0, got -0.5" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # refused before any work
    with pytest.raises(ValueError, match="finite σ >= 0, got nan"):
        TrainConfig("bfs", init=str(ckpt), init_noise=float("nan"))
    # success: each seed starts at compiled + σ·d_seed, d filter-normalised (|d_k| = |θ_k|
    # per filter of a matrix, 1-D leaves unmoved): every matrix row moves by σ|θ_row|
    starts = initial_models(TrainConfig("bfs", init=str(ckpt), init_noise=0.1, seeds=2))
    params = jax.tree.leaves(eqx.filter(compiled, eqx.is_inexact_array))
    moved = [jax.tree.leaves(eqx.filter(unstack(starts, k), eqx.is_inexact_array)) for k in range(2)]
    for k in range(2):
        for x, y in zip(params, moved[k]):
            x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
            if x.ndim < 2:
                np.testing.assert_array_equal(y, x)
            else:
                np.testing.assert_allclose(np.linalg.norm((y - x).reshape(x.shape[0], -1), axis=1),
                                           0.1 * np.linalg.norm(x.reshape(x.shape[0], -1), axis=1), rtol=1e-3,
                                           atol=1e-6 * np.abs(x).max())
    assert any(not np.array_equal(a, b) for a, b in zip(moved[0], moved[1]))  # one direction per seed


class Pair(eqx.Module):
    w: jax.Array
    b: jax.Array


def test_interpolate_equals_the_metrics_at_interpolated_weights():
    m0 = Pair(jnp.array([[1.0, -2.0], [0.5, 3.0]]), jnp.array([0.0, 1.0]))
    m1 = Pair(jnp.array([[-1.0, 0.0], [2.5, 1.0]]), jnp.array([2.0, -1.0]))
    x = np.array([0.3, -0.7])

    def metrics(m):
        y = m.w @ jnp.asarray(x) + m.b
        return {"loss": jnp.sum(y**2), "first": y[0]}

    ts = np.array([0.0, 0.25, 0.5, 1.0, 1.5])
    got = landscape.interpolate(m0, m1, metrics, ts)
    assert set(got) == {"loss", "first"} and got["loss"].shape == (5,)
    for i, t in enumerate(ts):  # by hand, in float64
        w = (1 - t) * np.asarray(m0.w, np.float64) + t * np.asarray(m1.w, np.float64)
        b = (1 - t) * np.asarray(m0.b, np.float64) + t * np.asarray(m1.b, np.float64)
        y = w @ x + b
        np.testing.assert_allclose(got["loss"][i], np.sum(y**2), rtol=1e-5)
        np.testing.assert_allclose(got["first"][i], y[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="interpolation needs two models of the same architecture"):
        landscape.interpolate(m0, eqx.nn.Linear(2, 2, key=jax.random.key(0)), metrics, ts)


def _centre(path) -> dict:
    """The metrics at the centre of a saved 3 x 3 surface."""
    s = landscape.load(path)
    return {k: float(v[1, 1]) for k, v in s.metrics.items()}


def test_landscape_plot_models_metric_force_and_resume(tmp_path, monkeypatch, capsys):
    import functools

    import eqgat.workflows.landscapes as landscapes
    from landscape.cli import main

    batch = landscapes.landscape_batch("bfs")
    base = ["plot", "--algo", "bfs", "--grid", "3", "--chunk", "4", "--span=-0.001:0.001"]
    # --model init: a fresh model of the compiled architecture from key --seed, at the centre
    out = tmp_path / "init.png"
    assert main(base + ["--model", "init", "--seed", "1", "--out", str(out)]) == 0
    fresh = eqgat.Model(eqgat.compile_algorithm("bfs").config, key=jax.random.key(1))
    assert _centre(out.with_suffix(".npz"))["loss"] == pytest.approx(float(eqgat.loss(fresh, batch)), rel=1e-5)
    # --model PATH: that checkpoint
    ckpt = eqgat.save(tmp_path / "m.eqx", fresh)
    assert main(base + ["--model", str(ckpt), "--seed", "1", "--out", str(tmp_path / "path.png")]) == 0
    np.testing.assert_array_equal(landscape.load(tmp_path / "path.npz").metrics["loss"],
                                  landscape.load(out.with_suffix(".npz")).metrics["loss"])
    assert main(base + ["--model", str(tmp_path / "none.eqx"), "--out", str(tmp_path / "x.png")]) == 2
    assert "neither 'compiled', 'init' nor an existing checkpoint" in capsys.readouterr().err
    # an existing surface is never overwritten without --force; --metric score draws the score
    assert main(base + ["--model", "init", "--seed", "1", "--out", str(out)]) == 2
    assert "exists; pass force=True (--force)" in capsys.readouterr().err
    drawn = []
    monkeypatch.setattr(landscapes, "plot_surface", lambda npz, png, metric: drawn.append(metric) or png)
    assert main(base + ["--model", "compiled", "--metric", "score", "--force", "--out", str(out)]) == 0
    assert drawn == ["score"] and _centre(out.with_suffix(".npz"))["score"] == 1.0  # the compiled model is exact
    # an interrupted surface (one chunk of three) resumes with --resume to the uninterrupted one
    part = tmp_path / "part.png"
    monkeypatch.setattr(landscapes, "evaluate_surface", functools.partial(landscape.evaluate_surface, stop_after=1))
    main(base + ["--out", str(part)])
    monkeypatch.undo()
    assert not part.with_suffix(".npz").exists()
    assert main(base + ["--out", str(part)]) == 2
    assert "holds an interrupted run; pass resume=True (--resume)" in capsys.readouterr().err
    assert main(base + ["--resume", "--out", str(part)]) == 0
    assert main(base + ["--out", str(tmp_path / "whole.png")]) == 0
    np.testing.assert_array_equal(landscape.load(part.with_suffix(".npz")).metrics["loss"],
                                  landscape.load(tmp_path / "whole.npz").metrics["loss"])


def test_landscape_stability_command(tmp_path, capsys):
    import json

    from landscape.cli import main

    out = tmp_path / "stab"
    argv = ["stability", "--algo", "bfs", "--runs", "1", "--steps", "1", "--train-lengths", "5", "--batch-size", "2",
            "--test-length", "5", "--out", str(out)]
    assert main(argv) == 0
    said = capsys.readouterr().out
    saved = json.loads((out / "stability.json").read_text())
    assert len(saved["runs"]) == 1 and saved["config"]["steps"] == 1 and saved["config"]["train_lengths"] == [5]
    assert f"test {100 * saved['runs'][0]['test_score']:.2f}" in said
    # the same folder under another setting: refused, naming it
    assert main([*argv[:6], "2", *argv[7:]]) == 2
    assert "steps: 1 there, 2 now" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # dfs has no graph program to compile
        main(["stability", "--algo", "dfs", "--out", str(out)])
    assert main(argv[:-2] + ["--noise", "-1", "--out", str(tmp_path / "neg")]) == 2
    assert "noise" in capsys.readouterr().err
