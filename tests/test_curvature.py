"""Hessian curvature and low-loss curves (landscape), against dense results on small
models, and their command lines."""

import json
import re
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import eqgat
import landscape


def _mlp_problem():
    # a tanh MLP away from its minimum: a Hessian with positive and negative eigenvalues
    mlp = eqx.nn.MLP(3, 2, 8, 2, activation=jnp.tanh, key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (32, 3))
    y = jnp.sin(x[:, :2])

    def loss(m):
        return jnp.mean((jax.vmap(m)(x) - y) ** 2)

    params, static = eqx.partition(mlp, eqx.is_inexact_array)
    flat, unravel = ravel_pytree(params)
    assert flat.size <= 200
    H = np.asarray(jax.hessian(lambda f: loss(eqx.combine(unravel(f), static)))(flat), np.float64)
    return mlp, loss, H


def test_top_eigenvalues_and_vectors_match_the_dense_hessian():
    mlp, loss, H = _mlp_problem()
    dense = np.linalg.eigvalsh(H)
    assert dense.min() < 0 < dense.max()
    want = dense[np.argsort(-np.abs(dense))][:3]
    eig, vecs = landscape.top_eigenvalues(loss, mlp, k=3, key=jax.random.key(2), iters=100)
    assert eig.shape == (3,) and len(vecs) == 3
    np.testing.assert_allclose(eig, want, rtol=1e-3)
    for lam, v in zip(eig, vecs):
        assert jax.tree.structure(v) == jax.tree.structure(eqx.filter(mlp, eqx.is_inexact_array))
        u = np.asarray(ravel_pytree(v)[0], np.float64)
        assert abs(np.linalg.norm(u) - 1) < 1e-5
        assert np.linalg.norm(H @ u - lam * u) < 1e-3 * abs(lam)  # an eigenvector, not just its value
    with pytest.raises(ValueError, match="k must be a positive integer"):
        landscape.top_eigenvalues(loss, mlp, k=0, key=jax.random.key(2))


def test_trace_is_within_its_reported_error_and_the_density_integrates_to_one():
    mlp, loss, H = _mlp_problem()
    estimate, stderr = landscape.hessian_trace(loss, mlp, key=jax.random.key(3), samples=100)
    assert stderr > 0 and abs(estimate - np.trace(H)) <= 3 * stderr
    grid, density = landscape.spectral_density(loss, mlp, key=jax.random.key(4), iters=40, runs=4)
    assert np.all(density >= 0) and abs(np.trapezoid(density, grid) - 1.0) < 1e-3
    dense = np.linalg.eigvalsh(H)
    assert grid.min() <= dense.min() and grid.max() >= dense.max()  # the spectrum's ends are found
    # the mass sits where the eigenvalues are: the density's mean is tr(H)/N
    np.testing.assert_allclose(np.trapezoid(grid * density, grid), dense.mean(), atol=0.05 * np.abs(dense).max())


class Point(eqx.Module):
    w: jax.Array


def ring(m: Point) -> jax.Array:
    """Minima on the unit circle: the straight line between opposite points crosses a
    barrier of 1 at the origin."""
    return (jnp.sum(m.w**2) - 1.0) ** 2


def test_the_loss_along_curves_and_the_hessian_products_are_traced_once_across_calls():
    """A loss function is traced (run in Python) once per compiled program: evaluating it
    along two lines, or taking the Hessian's eigenvalues then its trace, reuses the first
    call's program (one jitted function per module, not one per call)."""
    traces = []

    def counted(m: Point) -> jax.Array:
        traces.append(1)
        return ring(m)

    a, b, c = (Point(jnp.array(w)) for w in ([1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]))
    first = landscape.along_curve(counted, landscape.line(a, b), points=5)
    once = len(traces)
    second = landscape.along_curve(counted, landscape.line(a, c), points=5)
    assert once >= 1 and len(traces) == once  # another line of the same shape: no new trace
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1][2] == pytest.approx(1.0) and second[1][2] == pytest.approx(0.25)  # the origin; (0.5, 0.5)
    traces.clear()
    eig, _ = landscape.top_eigenvalues(counted, a, k=1, key=jax.random.key(0), iters=2)
    once = len(traces)
    estimate, _ = landscape.hessian_trace(counted, c, key=jax.random.key(1), samples=4)
    assert once >= 1 and len(traces) == once  # another point, the same architecture: no new trace
    assert eig[0] == pytest.approx(8.0) and estimate == pytest.approx(8.0)  # H = 8 w wᵀ on the circle


def test_a_trained_curve_lowers_the_barrier_of_the_straight_line():
    a, b = Point(jnp.array([1.0, 0.0])), Point(jnp.array([-1.0, 0.0]))
    assert landscape.barrier(ring, (a, b)) == pytest.approx(1.0)
    curve = landscape.connect(ring, a, b, bends=1, steps=300, key=jax.random.key(0))
    np.testing.assert_array_equal(curve(0.0).w, a.w)  # the end points never move
    np.testing.assert_array_equal(curve(1.0).w, b.w)
    assert landscape.barrier(ring, curve) < 0.1
    two = landscape.connect(ring, a, b, bends=2, steps=300, key=jax.random.key(1))
    assert two.bends == 2 and landscape.barrier(ring, two) < 0.1


def test_cli_hessian_and_connect_success_and_bad_input(tmp_path, capsys, monkeypatch):
    from landscape.cli import main

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "h"
    assert main(["hessian", "--algo", "bfs", "--model", "compiled", "--top-k", "2", "--iters", "6", "--samples", "3",
                 "--density", "--density-iters", "4", "--density-runs", "2", "--out", "h"]) == 0
    text = capsys.readouterr().out
    r = json.loads((out / "hessian.json").read_text())
    assert len(r["top_eigenvalues"]) == 2 and abs(r["top_eigenvalues"][0]) >= abs(r["top_eigenvalues"][1])
    assert (out / "spectral-density.png").exists()
    saved = np.load(out / "spectral-density.npz")  # the figure's data: a density over the grid, whose extent is recorded
    assert saved["grid"].shape == saved["density"].shape and np.all(np.isfinite(saved["density"]))
    assert np.all(saved["density"] >= 0) and abs(np.trapezoid(saved["density"], saved["grid"]) - 1.0) < 1e-3
    assert r["density"]["extent"] == pytest.approx(float(np.abs(saved["grid"]).max()))
    # float32 at the compiled weights (~1e8): the products are rounding noise, and every
    # curvature number says so; none is printed bare
    assert r["precision"] == "float32" and r["rounding_method"] == "x64+asymmetry"
    assert r["top_eigenvalues_resolved"] == [False, False] and r["trace_resolved"] is False
    assert r["density"]["resolved"] is False
    for key in ("loss", "top_eigenvalues", "trace"):
        assert np.all(np.asarray(r[f"{key}_rounding"]) > 0)
    assert text.count("eigenvalue unresolved (rounding ~") == 2 and "trace unresolved (rounding ~" in text
    assert "spectral density: extent unresolved" in text
    assert _bare_numbers(text) == [], _bare_numbers(text)
    # paths as given (relative), never this machine's absolute ones
    assert r["density"] == {**r["density"], "npz": "h/spectral-density.npz", "png": "h/spectral-density.png"}
    assert str(tmp_path) not in (out / "hessian.json").read_text()
    # in float64 the same model's curvature is resolved: numbers with their ± rounding
    assert main(["hessian", "--algo", "bfs", "--top-k", "2", "--iters", "6", "--samples", "3", "--x64",
                 "--out", "h64"]) == 0
    text = capsys.readouterr().out
    r = json.loads((tmp_path / "h64" / "hessian.json").read_text())
    assert r["precision"] == "float64" and r["rounding_method"] == "asymmetry"
    assert r["top_eigenvalues_resolved"] == [True, True] and r["trace_resolved"] is True
    assert text.count("(rounding estimate)") >= 7 and "unresolved" not in text
    assert _bare_numbers(text) == [], _bare_numbers(text)
    assert main(["hessian", "--model", "init", "--scale", "2", "--out", "x"]) == 2
    assert "--scale applies to --model compiled" in capsys.readouterr().err
    assert main(["hessian", "--model", "/nope.eqx", "--out", str(out)]) == 2
    assert "neither 'compiled', 'init'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: k must be >= 1
        main(["hessian", "--top-k", "0"])
    assert main(["connect", "--algo", "bfs", "--a", "compiled", "--b", "init", "--steps", "2", "--points", "5",
                 "--out", str(tmp_path / "c")]) == 0
    c = json.loads((tmp_path / "c" / "connect.json").read_text())
    assert (tmp_path / "c" / "connect.png").exists() and c["t"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    # two steps promise no lower barrier than the line's; what connect does promise: the
    # curve (and the line) start and end at the two models' own losses, computed here
    # with eqgat.loss on the evaluation batch, and each barrier is the path's maximum
    # above its higher end
    from eqgat.workflows.landscapes import landscape_batch

    batch = landscape_batch("bfs")
    compiled = eqgat.compile_algorithm("bfs")
    init = eqgat.Model(compiled.config, key=jax.random.key(0))  # --b init: key = --seed (0)
    ends = [float(eqgat.loss(m, batch)) for m in (compiled, init)]
    for losses in (c["loss_line"], c["loss_curve"]):
        assert len(losses) == 5 and np.all(np.isfinite(losses))
        np.testing.assert_allclose([losses[0], losses[-1]], ends, rtol=1e-5, atol=1e-7)
    for key, losses in (("barrier_line", c["loss_line"]), ("barrier_curve", c["loss_curve"])):
        assert c[key] == pytest.approx(max(losses) - max(losses[0], losses[-1]), rel=1e-9, abs=1e-12), key
    # the saved midpoint is the curve's model at t = 0.5, and the line's midpoint the average of the weights
    mid = eqgat.load(tmp_path / "c" / "curve-mid.eqx")
    np.testing.assert_allclose(float(eqgat.loss(mid, batch)), c["loss_curve"][2], rtol=1e-4, atol=1e-6)
    p0, static = eqx.partition(compiled, eqx.is_inexact_array)
    half = eqx.combine(jax.tree.map(lambda x, y: 0.5 * x + 0.5 * y, p0, eqx.filter(init, eqx.is_inexact_array)), static)
    np.testing.assert_allclose(float(eqgat.loss(half, batch)), c["loss_line"][2], rtol=1e-4, atol=1e-6)
    other = eqgat.save(tmp_path / "other.eqx", eqgat.Model(eqgat.ModelConfig("bfs", 8), key=jax.random.key(0)))
    assert main(["connect", "--b", str(other), "--steps", "1", "--out", str(tmp_path / "d")]) == 2
    assert "different architectures" in capsys.readouterr().err



def test_records_and_labels_name_models_as_given_or_relative_to_the_working_directory(tmp_path, monkeypatch):
    # records that travel (issue 32): an absolute --b and --out inside the working
    # directory are recorded (connect.json, the midpoint's metadata, the figure's axis
    # label) relative to it; a relative path as given; no path of this machine is stored
    import matplotlib.figure

    from eqgat.workflows.landscapes import recorded_path
    from landscape.cli import main

    monkeypatch.chdir(tmp_path)
    compiled = eqgat.compile_algorithm("bfs")
    eqgat.save(tmp_path / "models" / "init.eqx", eqgat.Model(compiled.config, key=jax.random.key(1)))
    labels = []
    savefig = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                        lambda fig, *a, **k: labels.append(fig.axes[0].get_xlabel()) or savefig(fig, *a, **k))
    for b, out in ((str(tmp_path / "models" / "init.eqx"), str(tmp_path / "runs" / "c")),
                   ("models/init.eqx", "runs/d")):
        assert main(["connect", "--algo", "bfs", "--a", "compiled", "--b", b, "--steps", "1", "--points", "3",
                     "--out", out]) == 0
        folder = tmp_path / out
        record, meta = (folder / "connect.json").read_text(), (folder / "curve-mid.eqx.json").read_text()
        assert json.loads(record)["b"] == json.loads(meta)["info"]["b"] == "models/init.eqx"
        assert str(tmp_path) not in record and str(tmp_path) not in meta
        assert labels.pop() == "t (0: compiled, 1: models/init.eqx)"
    # the rule itself: relative as given, absolute inside the working directory relative to
    # it, any other absolute path as given (it names nothing here)
    assert recorded_path("a/../b.eqx") == "a/../b.eqx"
    assert recorded_path(tmp_path / "x" / "m.eqx") == "x/m.eqx"
    assert recorded_path("/elsewhere/m.eqx") == "/elsewhere/m.eqx"


def test_the_committed_records_hold_no_absolute_path():
    # docs/**/*.json (surfaces' metadata, hessian and connect records, checkpoints' metadata)
    # name files relative to the repository's root, as the commands that made them were run
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs"

    def strings(x):
        if isinstance(x, str):
            yield x
        elif isinstance(x, dict | list):
            for v in x.values() if isinstance(x, dict) else x:
                yield from strings(v)

    found = {str(f.relative_to(docs)): s for f in docs.rglob("*.json") for s in strings(json.loads(f.read_text()))
             if s.startswith(("/", "~")) or re.match(r"[A-Za-z]:\\", s)}
    assert found == {}

# --- rounding estimates of the Hessian-vector products (issue 30) ---------------------------------------------------


def _quadratic():
    """½ Σ d_i w_i²: H = diag(d), well conditioned, weights of order 1."""
    d = jnp.array([3.0, 1.0, -2.0, 0.5, 0.25])
    return Point(jnp.array([0.1, -0.2, 0.3, 0.05, 1.0])), (lambda m: 0.5 * jnp.sum(d * m.w**2)), np.asarray(d)


def _saturated_cross_entropy():
    """A cross-entropy of ~1e-13 (exact margins of 30) at float32 weights of ~2^30: the
    logits are differences of terms of ~1e9 whose float32 rounding (~1e2) is larger
    than the margins, so float32 Hessian-vector products are rounding noise (as in the
    compiled Bellman-Ford). The true Hessian is ~1e-13 x (|x|² ~ 1)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (4, 3, 8))
    w = np.asarray(np.asarray(rng.uniform(1, 2, 8) * 2.0**30, np.float32), np.float64)
    b = -(X @ w) + np.array([30.0, 0.0, 0.0])  # exact in float64; rounded when cast to float32

    def ce(m):
        logits = jnp.asarray(X, m.w.dtype) @ m.w + jnp.asarray(b, m.w.dtype)
        return jnp.mean(jax.nn.logsumexp(logits, -1) - logits[:, 0])

    return Point(jnp.asarray(w, jnp.float32)), ce


def test_the_rounding_estimate_is_small_and_silent_on_a_well_conditioned_quadratic():
    m, loss, d = _quadratic()
    with warnings.catch_warnings():
        warnings.simplefilter("error", landscape.RoundingWarning)  # no warning: everything is resolved
        eig, vecs, err = landscape.top_eigenvalues(loss, m, k=3, key=jax.random.key(0), iters=5, return_error=True)
        estimate, stderr, trace_err = landscape.hessian_trace(loss, m, key=jax.random.key(1), samples=8,
                                                               return_error=True)
        grid, density, density_err = landscape.spectral_density(loss, m, key=jax.random.key(2), iters=5, runs=2,
                                                                 return_error=True)
        products = landscape.hvp_rounding(loss, m, key=jax.random.key(3))
    np.testing.assert_allclose(eig, [3.0, -2.0, 1.0], rtol=1e-6)
    assert len(vecs) == 3 and err.shape == (3,)
    # an estimate is made (float32 against float64 differs by a few ulps), and it is small
    assert np.all(err > 0) and np.all(err < 1e-5 * np.abs(eig)) and landscape.resolved(eig, err).all()
    assert estimate == pytest.approx(d.sum(), rel=1e-6) and stderr == 0.0  # Rademacher probes: zᵀHz = tr H exactly
    assert 0 <= trace_err < 1e-5 * abs(estimate) and 0 <= density_err < 1e-5 * 3.0  # exact here: diagonal, ±1 probes
    assert products["method"] == "x64+asymmetry" and 0 < products["relative"] < 1e-5 and products["resolved"]
    # the return types without return_error are unchanged
    assert len(landscape.top_eigenvalues(loss, m, k=1, key=jax.random.key(0), iters=5)) == 2
    assert len(landscape.hessian_trace(loss, m, key=jax.random.key(1), samples=2)) == 2
    assert len(landscape.spectral_density(loss, m, key=jax.random.key(2), iters=3, runs=1)) == 2


def test_float32_rounding_at_weights_of_2_30_is_reported_unresolved_with_a_warning():
    m, loss = _saturated_cross_entropy()
    with jax.enable_x64(True):  # the loss really is ~1e-13 at these (exactly cast) weights
        assert float(loss(Point(jnp.asarray(np.asarray(m.w, np.float64))))) < 1e-11
    assert float(loss(m)) > 1.0  # while float32 makes it > 1: rounding dominates
    with pytest.warns(landscape.RoundingWarning, match="top_eigenvalues"):
        eig, _, err = landscape.top_eigenvalues(loss, m, k=2, key=jax.random.key(0), iters=8, return_error=True)
    assert np.all(np.abs(eig) > 1e-3)  # float32 claims curvature ~0.1 ...
    assert not landscape.resolved(eig, err).any()  # ... which the float64 recomputation shows is noise
    with pytest.warns(landscape.RoundingWarning, match="hessian_trace"):
        estimate, _, trace_err = landscape.hessian_trace(loss, m, key=jax.random.key(1), samples=8, return_error=True)
    assert not landscape.resolved(estimate, trace_err)
    with pytest.warns(landscape.RoundingWarning, match="spectral_density"):
        landscape.spectral_density(loss, m, key=jax.random.key(2), iters=8, runs=2, return_error=True)
    with pytest.warns(landscape.RoundingWarning, match="hvp_rounding"):
        products = landscape.hvp_rounding(loss, m, key=jax.random.key(3))
    assert not products["resolved"] and products["x64_relative"] > 1
    # the asymmetry alone misses this error (float32 computes the symmetric Hessian of a
    # slightly different function): why "auto" adds the float64 recomputation
    assert products["asymmetry_relative"] < 1e-3
    # in float64 the same point's curvature is resolved, and tiny
    with jax.enable_x64(True):
        m64 = Point(jnp.asarray(np.asarray(m.w, np.float64)))
        with warnings.catch_warnings():
            warnings.simplefilter("error", landscape.RoundingWarning)
            eig64, _, err64 = landscape.top_eigenvalues(loss, m64, k=1, key=jax.random.key(0), iters=8,
                                                        return_error=True)
        with pytest.raises(ValueError, match="already float64"):
            landscape.top_eigenvalues(loss, m64, k=1, key=jax.random.key(0), iters=8, rounding="x64")
    assert abs(eig64[0]) < 1e-10 and landscape.resolved(eig64, err64).all()


_NUMBER = re.compile(r"(?<![\w.=/-])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")


def _bare_numbers(text: str) -> list[str]:
    """The numbers in the hessian command's lines (not its 'results:' paths) that are
    neither 'VALUE ± ERR', '± ERR' nor '~ERR'."""
    bare = []
    for line in text.splitlines():
        if line.startswith("results:"):
            continue
        for m in _NUMBER.finditer(line):
            before, after = line[: m.start()], line[m.end():]
            if not (after.startswith(" ±") or before.endswith("± ") or before.endswith("~")):
                bare.append(f"{m.group()!r} in {line!r}")
    return bare
