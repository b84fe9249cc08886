"""Hessian curvature and low-loss curves (landscape), against dense results on small
models, and their command lines."""

import json

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


def test_cli_hessian_and_connect_success_and_bad_input(tmp_path, capsys):
    from landscape.cli import main

    out = tmp_path / "h"
    assert main(["hessian", "--algo", "bfs", "--model", "compiled", "--top-k", "2", "--iters", "6", "--samples", "3",
                 "--density", "--density-iters", "4", "--density-runs", "2", "--out", str(out)]) == 0
    r = json.loads((out / "hessian.json").read_text())
    assert len(r["top_eigenvalues"]) == 2 and abs(r["top_eigenvalues"][0]) >= abs(r["top_eigenvalues"][1])
    assert (out / "spectral-density.png").exists()
    assert main(["hessian", "--model", "/nope.eqx", "--out", str(out)]) == 2
    assert "neither 'compiled', 'init'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: k must be >= 1
        main(["hessian", "--top-k", "0"])
    assert main(["connect", "--algo", "bfs", "--a", "compiled", "--b", "init", "--steps", "2", "--points", "5",
                 "--out", str(tmp_path / "c")]) == 0
    c = json.loads((tmp_path / "c" / "connect.json").read_text())
    assert c["barrier_line"] >= 0 and len(c["loss_curve"]) == 5 and (tmp_path / "c" / "connect.png").exists()
    other = eqgat.save(tmp_path / "other.eqx", eqgat.Model(eqgat.ModelConfig("bfs", 8), key=jax.random.key(0)))
    assert main(["connect", "--b", str(other), "--steps", "1", "--out", str(tmp_path / "d")]) == 2
    assert "different architectures" in capsys.readouterr().err
