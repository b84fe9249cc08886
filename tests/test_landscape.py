"""landscape on any Equinox pytree: filter normalisation, surfaces, resumability, CLI errors."""

import json
import os
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import jaxtyping
import numpy as np
import pytest

import eqgat
import landscape
from eqgat import programs
from landscape._surface import OutputExists, evaluate_surface, grid_axes, parse_span


class Toy(eqx.Module):
    lin: eqx.nn.Linear
    scale: jax.Array

    def __init__(self, key):
        self.lin = eqx.nn.Linear(3, 4, key=key)
        self.scale = jnp.array([2.0, -1.0])


def test_each_filter_of_a_direction_has_its_filters_norm():
    model = Toy(jax.random.key(0))
    d = landscape.random_direction(model, jax.random.key(1))
    W, dW = np.asarray(model.lin.weight), np.asarray(d.lin.weight)
    # output axis (axis 0) is the filter axis of an Equinox weight [out, in]
    np.testing.assert_allclose(np.linalg.norm(dW, axis=1), np.linalg.norm(W, axis=1), rtol=1e-5)
    assert not np.allclose(np.linalg.norm(dW, axis=0), np.linalg.norm(W, axis=0))
    assert np.all(np.asarray(d.lin.bias) == 0) and np.all(np.asarray(d.scale) == 0)  # 1-D leaves zeroed
    d2 = landscape.random_direction(model, jax.random.key(1), bias="normalize")
    np.testing.assert_allclose(np.linalg.norm(d2.scale), np.linalg.norm(model.scale), rtol=1e-5)
    # under pytest (--jaxtyping-packages) the type checker refuses the value first ...
    with pytest.raises(jaxtyping.TypeCheckError, match="parameter 'bias'"):
        landscape.random_direction(model, jax.random.key(1), bias="ignore")
    # ... and without it, the function itself: a ValueError naming the two choices
    code = ("import jax, equinox as eqx, landscape\n"
            "try:\n    landscape.random_direction(eqx.nn.Linear(3, 4, key=jax.random.key(0)), jax.random.key(1), bias='ignore')\n"
            "except ValueError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert "bias must be 'zero' or 'normalize', got 'ignore'" in done.stdout


def test_filter_axis_of_eqgat_weights_is_the_output_axis():
    model = eqgat.Model(eqgat.ModelConfig("bfs", 8), key=jax.random.key(0))
    d = landscape.random_direction(model, jax.random.key(3))
    W, dW = np.asarray(model.processor.W_val.weight), np.asarray(d.processor.W_val.weight)
    assert W.shape == (8, 16)
    np.testing.assert_allclose(np.linalg.norm(dW, axis=1), np.linalg.norm(W, axis=1), rtol=1e-5)


def _quadratic(model):
    # loss = Σ (w - 1)^2 over the weight matrix: analytic on the grid
    return {"loss": jnp.sum((model.lin.weight - 1.0) ** 2)}


def test_quadratic_surface_matches_the_analytic_values_on_a_non_square_grid():
    model = Toy(jax.random.key(0))
    d1 = landscape.random_direction(model, jax.random.key(1))
    d2 = landscape.random_direction(model, jax.random.key(2))
    a, b = grid_axes((-1, 1), (-0.5, 2), (7, 4))
    grid = evaluate_surface(model, _quadratic, d1, d2, a, b, chunk=5, progress=False)["loss"]
    assert grid.shape == (7, 4)
    W, u, v = (np.asarray(x, dtype=np.float64) for x in (model.lin.weight, d1.lin.weight, d2.lin.weight))
    want = np.array([[np.sum((W + ai * u + bj * v - 1) ** 2) for bj in b] for ai in a])
    np.testing.assert_allclose(grid, want, rtol=1e-4)


@pytest.mark.parametrize("algo,span", [("bfs", 0.5), ("dfs_light", 1e-3)])
def test_surface_at_origin_equals_the_models_loss_and_every_point_its_own(algo, span):
    from eqgat.compiler import compile_algorithm
    from eqgat.workflows.landscapes import landscape_batch, metrics_on

    model = compile_algorithm(algo, 4 if algo == "bfs" else None)
    batch = landscape_batch(algo) if algo == "bfs" else landscape_batch(algo, batch_size=8)
    metrics = metrics_on(batch)
    d1 = landscape.random_direction(model, jax.random.key(1))
    d2 = landscape.random_direction(model, jax.random.key(2))
    a, b = span * np.linspace(-1, 1, 5), span * np.array([-0.4, 0.0, 0.4, 0.8])
    # all 20 points in one vmapped chunk: points must not leak into each other (a one-hot
    # pointer loss once did on XLA:CPU from 13 points up, and dfs_light's categorical one)
    grid = evaluate_surface(model, metrics, d1, d2, a, b, chunk=20, progress=False)
    np.testing.assert_allclose(grid["loss"][2, 1], float(eqgat.loss(model, batch)), rtol=1e-5, atol=1e-6)
    assert grid["score"][2, 1] == 1.0  # the compiled model is exact
    assert np.ptp(grid["loss"]) > 1.0  # and the surface varies, so a leak between points would show
    params, static = eqx.partition(model, eqx.is_inexact_array)
    one = eqx.filter_jit(metrics)
    for i, ai in enumerate(a):
        for j, bj in enumerate(b):
            moved = jax.tree.map(lambda x, u, v: x + ai * u + bj * v, params, d1, d2)
            want = float(one(eqx.combine(moved, static))["loss"])
            assert np.isfinite(grid["loss"][i, j]) and np.isfinite(want), (i, j)  # no point overflows here
            np.testing.assert_allclose(grid["loss"][i, j], want, rtol=1e-4)


def test_resume_after_interruption_gives_the_same_file(tmp_path):
    model = Toy(jax.random.key(0))
    d1 = landscape.random_direction(model, jax.random.key(1))
    d2 = landscape.random_direction(model, jax.random.key(2))
    a, b = grid_axes((-1, 1), (-1, 1), (6, 5))
    full = tmp_path / "full.npz"
    evaluate_surface(model, _quadratic, d1, d2, a, b, chunk=4, out=full, progress=False)
    part = tmp_path / "part.npz"
    evaluate_surface(model, _quadratic, d1, d2, a, b, chunk=4, out=part, progress=False, stop_after=3,
                     meta={"span": [-1, 1]})
    assert not part.exists()
    saved = np.load(tmp_path / "part.npz.partial.npz")
    assert saved["done"].sum() == 12 and np.isnan(saved["v_loss"][~saved["done"]]).all()
    with pytest.raises(OutputExists, match="interrupted"):
        evaluate_surface(model, _quadratic, d1, d2, a, b, chunk=4, out=part, progress=False)
    # a resume under other settings is refused, naming what differs
    with pytest.raises(ValueError, match="directions:"):
        evaluate_surface(model, _quadratic, d2, d1, a, b, chunk=4, out=part, progress=False, resume=True)
    with pytest.raises(ValueError, match="span: \\[-1, 1\\] then, \\[-2, 2\\] now"):
        evaluate_surface(model, _quadratic, d1, d2, a, b, chunk=4, out=part, progress=False, resume=True,
                         meta={"span": [-2, 2]})
    other = jax.tree.map(lambda x: x + 1, model)
    with pytest.raises(ValueError, match="model parameters:"):
        evaluate_surface(other, _quadratic, d1, d2, a, b, chunk=4, out=part, progress=False, resume=True)
    with pytest.raises(ValueError, match="grid points:"):
        evaluate_surface(model, _quadratic, d1, d2, a, b[:4], chunk=4, out=part, progress=False, resume=True)
    evaluate_surface(model, _quadratic, d1, d2, a, b, chunk=4, out=part, progress=False, resume=True,
                     meta={"span": [-1, 1]})
    np.testing.assert_array_equal(np.load(full)["value_loss"], np.load(part)["value_loss"])
    with pytest.raises(OutputExists, match="exists"):
        evaluate_surface(model, _quadratic, d1, d2, a, b, chunk=4, out=full, progress=False)
    assert json.loads((tmp_path / "full.npz.json").read_text())["grid"] == [6, 5]


def test_plane_through_three_models_places_each_model():
    # random models: the directions and coordinates reproduce each model
    from eqgat import model_config, model_from_config

    cfg = model_config(eqgat.compile_program(programs.bfs, 4))
    compiled, learned, init = (model_from_config(cfg, key=jax.random.key(k)) for k in range(3))
    d1, d2, coords, _ = landscape.plane(compiled, learned, init)
    assert coords[0].tolist() == [0.0, 0.0] and coords[1].tolist() == [1.0, 0.0]
    for model, (a, b) in zip((compiled, learned, init), coords):
        moved = landscape.along(compiled, [d1, d2], [a, b])
        for x, y in zip(jax.tree.leaves(eqx.filter(moved, eqx.is_inexact_array)), jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))):
            np.testing.assert_allclose(x, y, atol=1e-4)


def test_plane_surface_is_exact_at_a_compiled_model_and_two_small_ones():
    # the compiled model's ~1e9 weights: θ0 + a·d1 + b·d2 in float32 would miss the other
    # two models by rounding; the anchored evaluation hits all three
    from eqgat import model_config, model_from_config
    from eqgat.workflows.landscapes import landscape_batch, metrics_on

    compiled = eqgat.compile_program(programs.bfs, 4)
    learned, init = (model_from_config(model_config(compiled), key=jax.random.key(k)) for k in (1, 2))
    pl = landscape.plane(compiled, learned, init)
    assert pl.coords[2][1] == 1.0  # Gram-Schmidt in float64: a real orthogonal component
    metrics = metrics_on(landscape_batch("bfs", batch_size=4))
    a = np.array([0.0, 1.0, pl.coords[2][0]])
    b = np.array([0.0, pl.coords[2][1]])
    grid = evaluate_surface(compiled, metrics, pl.d1, pl.d2, a, b, progress=False, anchors=(learned, init, pl.weights))
    loss = lambda m: float(eqx.filter_jit(metrics)(m)["loss"])
    np.testing.assert_allclose(grid["loss"][0, 0], loss(compiled), rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(grid["loss"][1, 0], loss(learned), rtol=1e-5)
    np.testing.assert_allclose(grid["loss"][2, 1], loss(init), rtol=1e-4)


def test_bad_spans_and_grids_are_clear_errors():
    with pytest.raises(ValueError, match="LOW must be below HIGH"):
        parse_span("1:-1")
    with pytest.raises(ValueError, match="at least 1x1"):
        grid_axes((0, 1), (0, 1), (0, 5))
    from landscape.cli import main

    with pytest.raises(SystemExit):
        main(["plot", "--grid", "0"])
    assert main(["plot", "--model", "/nonexistent/model.eqx"]) == 2


def test_trajectory_command_draws_a_training_path_in_its_pca_plane(tmp_path):
    from eqgat.workflows.training import TrainConfig, train
    from eqgat.workflows.landscapes import load_trajectory
    from landscape.cli import main

    run = tmp_path / "run"
    train(TrainConfig(algo="bfs", model=eqgat.ModelConfig("bfs", 8), steps=4, train_lengths=(5,), batch_size=4, val_every=0, seeds=2, seed=3),
          test=False, progress=False, out=run, trajectory_every=1)
    final, snapshots, seed = load_trajectory(run, 4)
    assert seed == 4 and len(snapshots) == 4
    assert main(["trajectory", "--run", str(run), "--seed", "4", "--grid", "5"]) == 0
    meta = json.loads((run / "trajectory-seed4.npz.json").read_text())
    assert meta["directions"].startswith("PCA of 4 snapshots") and meta["normalization"].startswith("none")
    assert (run / "trajectory-seed4.png").exists()
    # the figure's data: a 5x5 surface centred on the final model
    from eqgat.workflows.landscapes import landscape_batch

    data, _ = landscape.load_surface(run / "trajectory-seed4.npz")
    assert data["value_loss"].shape == (5, 5) and np.all(np.isfinite(data["value_loss"]))
    np.testing.assert_allclose(data["value_loss"][2, 2], float(eqgat.loss(final, landscape_batch("bfs"))), rtol=1e-4)
    assert main(["trajectory", "--run", str(run), "--seed", "4", "--grid", "5"]) == 2  # never silently overwritten
    with pytest.raises(ValueError, match="seed 9 is not in"):
        load_trajectory(run, 9)
    names = set(np.load(run / "trajectory.npz").files)  # one named array per parameter
    assert ".processor.W_val.weight" in names and all(n.startswith(".") for n in names)


def test_generic_surface_for_a_plain_mlp_and_a_user_loss(tmp_path):
    import subprocess
    import sys

    import landscape

    mlp = eqx.nn.MLP(3, 1, 8, 2, key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (16, 3))
    y = jnp.sin(x[:, :1])

    def loss_fn(model):
        return jnp.mean((jax.vmap(model)(x) - y) ** 2)

    dirs = landscape.random_directions(mlp, key=jax.random.key(2))
    assert len(dirs) == 2
    s = landscape.surface(loss_fn, mlp, dirs, grid=(5, 7), span=(-0.5, 0.5), chunk=8)
    assert s.values.shape == (5, 7) and s.coords[0].shape == (5,) and s.coords[1].shape == (7,)
    np.testing.assert_allclose(s.values[2, 3], loss_fn(mlp), rtol=1e-5)  # the centre is the model itself
    assert np.all(np.isfinite(s.values)) and s.values.min() < s.values.max()
    path = s.save(tmp_path / "mlp.npz")
    back = landscape.load(path)
    np.testing.assert_array_equal(back.values, s.values)
    assert back.meta["grid"] == [5, 7] and back.metric == "loss"
    # one format: a surface the CLI wrote (loss and score, models marked) loads the same way
    grid = evaluate_surface(mlp, lambda m: {"loss": loss_fn(m), "neg": -loss_fn(m)}, *dirs, *s.coords,
                            out=tmp_path / "two.npz", meta={"coords": {"centre": [0.0, 0.0]}}, progress=False)
    two = landscape.load(tmp_path / "two.npz", metric="neg")
    np.testing.assert_array_equal(two.values, grid["neg"])
    np.testing.assert_array_equal(two.metrics["loss"], grid["loss"])
    assert two.meta["coords"] == {"centre": [0.0, 0.0]}
    with pytest.raises(ValueError, match="has no metric 'score'"):
        landscape.load(tmp_path / "two.npz", metric="score")
    (tmp_path / "junk.npz").write_bytes(b"not a surface")
    with pytest.raises(ValueError, match="not a saved landscape Surface"):
        landscape.load(tmp_path / "junk.npz")
    code = "import landscape, sys; assert 'eqgat' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_cli_show_plot_compare_success_and_failure(tmp_path, capsys):
    from eqgat.cli import main as eqgat_main
    from landscape.cli import main as landscape_main

    assert eqgat_main(["show", "--algo", "bellman_ford", "--out", str(tmp_path / "bf.png")]) == 0
    assert (tmp_path / "bf.png").exists() and (tmp_path / "bf-aux.png").exists()
    assert eqgat_main(["show", "--algo", "bfs", "--hidden-size", "2", "--out", str(tmp_path / "x.png")]) == 2
    assert "needs hidden size >= 4" in capsys.readouterr().err
    out = tmp_path / "plot.png"
    assert landscape_main(["plot", "--algo", "bellman_ford", "--grid", "3", "--out", str(out)]) == 0
    assert out.exists()
    data, meta = landscape.load_surface(out.with_suffix(".npz"))
    assert data["value_loss"].shape == (3, 3) and meta["model"] == "compiled" and meta["span_name"] == "general"
    from eqgat.workflows.landscapes import landscape_batch

    # the figure's data: the centre of the grid is the compiled model itself
    bf = eqgat.compile_algorithm("bellman_ford")
    np.testing.assert_allclose(data["value_loss"][1, 1], float(eqgat.loss(bf, landscape_batch("bellman_ford"))),
                               rtol=1e-5, atol=1e-7)
    assert data["value_score"][1, 1] == 1.0
    assert landscape_main(["plot", "--algo", "bellman_ford", "--grid", "3", "--out", str(out)]) == 2  # never overwritten
    assert "error: " in capsys.readouterr().err
    learned = eqgat.save(tmp_path / "other.eqx", eqgat.Model(eqgat.ModelConfig("bfs", 8), key=jax.random.key(0)))
    assert landscape_main(["compare", "--algo", "bfs", "--learned", str(learned), "--grid", "3",
                           "--out", str(tmp_path / "cmp")]) == 2
    assert "differs from the compiled one" in capsys.readouterr().err
    assert landscape_main(["compare", "--algo", "bfs", "--steps", "1", "--grid", "3", "--out", str(tmp_path / "ok")]) == 0
    assert {p.name for p in (tmp_path / "ok").glob("*.png")} >= {"compare-bfs.png", "plane-bfs.png"}
    scores = json.loads((tmp_path / "ok" / "compare.json").read_text())["test"]
    # the learned model's score, recomputed on the CLRS-30 test split compare scores on
    from eqgat.data import evaluation_batch

    learned_model = eqgat.load(tmp_path / "ok" / "learned" / "seed0.eqx")
    assert scores["compiled"] == 1.0
    assert scores["learned"] == pytest.approx(eqgat.score(learned_model, evaluation_batch("bfs", "test")), abs=1e-9)
    # the figures' data: each surface's centre is its own model, on the surfaces' batch
    batch = landscape_batch("bfs")
    for name, model in (("compiled", eqgat.compile_algorithm("bfs")), ("learned", learned_model)):
        for span in ("general", "local"):
            d, m = landscape.load_surface(tmp_path / "ok" / f"{name}-{span}.npz")
            assert d["value_loss"].shape == (3, 3) and m["span_name"] == span
            np.testing.assert_allclose(d["value_loss"][1, 1], float(eqgat.loss(model, batch)), rtol=1e-4, atol=1e-6)
    assert "learned" in capsys.readouterr().out
