"""Curvature and connecting curves at eqgat's models (``python -m landscape hessian`` and
``connect``), on the surfaces' evaluation batch (``eqgat.workflows.landscapes``).

- ``curvature``: Hessian top eigenvalues, trace and spectral density at a model, each with
  its rounding estimate;
- ``connect_models``: a trained low-loss curve between two models, against the line.
"""

import json
import warnings
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from landscape import (RoundingWarning, along_curve, barrier, connect, hessian_trace, hvp_rounding, line, resolved,
                       spectral_density, top_eigenvalues, x64_available)

from ..compiler import compile_algorithm
from ..nn import Model
from .landscapes import EVAL_BATCH, loss_on_eval_batch, recorded_path, resolve_model, versions


def _norm(model: Model) -> float:
    return float(np.sqrt(sum(float(np.sum(np.asarray(x, np.float64) ** 2))
                             for x in jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array)))))


def _loss_rounding(loss_fn, model: Model, value: float, *, key) -> float:
    """A rounding estimate of the loss ``value`` at ``model``: below float64, the
    difference from the loss recomputed with the weights (cast exactly) in float64
    (``jax.enable_x64``); in float64, how far the loss moves when every weight moves by
    4 float64 ulps of its own (the backward-error view of rounding: the larger of two
    random sign patterns)."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    leaves = jax.tree.leaves(params)
    if leaves and all(np.dtype(x.dtype).itemsize < 8 for x in leaves) and x64_available():
        with jax.enable_x64(True):
            return abs(value - float(loss_fn(_as_float64(model))))
    out = 0.0
    for k in jax.random.split(key, 2):
        keys = iter(jax.random.split(k, len(leaves)))
        moved = jax.tree.map(lambda x: x * (1 + 4 * np.finfo(x.dtype).eps * jax.random.rademacher(next(keys), x.shape,
                                                                                                    x.dtype)), params)
        out = max(out, abs(value - float(loss_fn(eqx.combine(moved, static)))))
    return out


def _as_float64(model: Model) -> Model:
    """``model`` with its inexact arrays cast to float64 (exactly: the same point); call
    under ``jax.enable_x64(True)``."""
    import jax.numpy as jnp

    return jax.tree.map(lambda x: jnp.asarray(x, jnp.float64) if eqx.is_inexact_array(x) else x, model)


def _curvature_model(model_spec: str, algorithm: str, scale: float | None) -> tuple[Model, str]:
    if scale is None:
        return resolve_model(model_spec, algorithm)
    if model_spec != "compiled":
        raise ValueError(f"--scale applies to --model compiled (it compiles at that scale), not {model_spec!r}")
    from ..compiler import CompileOptions

    return compile_algorithm(algorithm, options=CompileOptions(scale=scale)), f"compiled (scale {scale:g})"


def _density_figure(out: Path, grid: np.ndarray, dens: np.ndarray, dens_err: float, dens_resolved: bool,
                    what: str) -> dict:
    """The spectral density saved (``.npz``) and drawn (``.png``, marked when unresolved);
    returns what ``hessian.json`` records of it."""
    import matplotlib.pyplot as plt

    np.savez(out / "spectral-density.npz", grid=grid, density=dens)
    largest = float(np.abs(grid).max())  # the spectrum ± 5σ: its largest |eigenvalue|, padded
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.semilogy(grid, np.maximum(dens, 1e-12))
    if not dens_resolved:
        ax.text(0.5, 0.5, f"UNRESOLVED: rounding ~{dens_err:.2g}\n>= the spectrum's extent", ha="center",
                va="center", transform=ax.transAxes, color="red")
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    ax.set_title(f"{what}: Hessian spectral density (SLQ), rounding ~{dens_err:.2g}", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "spectral-density.png", dpi=130)
    plt.close(fig)
    return {"npz": recorded_path(out / "spectral-density.npz"), "png": recorded_path(out / "spectral-density.png"),
            "extent": largest, "rounding": dens_err, "resolved": dens_resolved}


def curvature(model_spec: str, algorithm: str, out: Path, *, top_k: int = 3, iters: int = 100, samples: int = 100,
              density: bool = False, density_iters: int = 80, density_runs: int = 10, seed: int = 0,
              x64: bool = False, scale: float | None = None) -> dict:
    """Hessian of the evaluation-batch loss at the model ``model_spec`` names: the ``top_k``
    eigenvalues of largest magnitude (Lanczos, ``iters`` products), Hutchinson's trace
    (``samples`` probes) and, with ``density``, the spectral density (SLQ) drawn to
    ``out/spectral-density.png``, each with a rounding estimate of its Hessian-vector
    products (``landscape.top_eigenvalues`` etc., ``rounding="auto"``: a float64
    recomputation and the products' asymmetry for float32 models, the asymmetry alone in
    float64) and whether it is resolved (rounding estimate < |value| / 2, ``landscape.resolved``). Keys:
    ``jax.random.key(seed)`` split four ways (eigenvalues, trace, density, the products'
    rounding). Eigenvalues are reported raw and times |θ|² (the second derivative along a
    direction as long as θ, the scale the filter-normalised surfaces are drawn at).
    ``x64``: the whole computation in float64 (``jax.enable_x64``), at the model's weights
    cast exactly to float64. ``scale``: ``model_spec`` 'compiled' compiled with
    ``CompileOptions(scale=scale)``. Writes ``out/hessian.json`` (paths as given, or
    relative to the working directory: ``recorded_path``) and returns it. Rounding warnings are left to the caller to show or filter."""
    import contextlib

    if top_k < 1:
        raise ValueError(f"--top-k must be >= 1, got {top_k}")
    if x64 and not x64_available():
        raise ValueError("--x64: float64 is not available here (jax.enable_x64)")
    model, source = _curvature_model(model_spec, algorithm, scale)
    loss_fn = loss_on_eval_batch(algorithm)
    k_eig, k_tr, k_sd, k_rd = jax.random.split(jax.random.key(seed), 4)
    out = Path(out)
    with jax.enable_x64(True) if x64 else contextlib.nullcontext():
        if x64:
            model = _as_float64(model)
        precision = str(jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))[0].dtype)
        rounding = hvp_rounding(loss_fn, model, key=k_rd)
        eig, _, eig_err = top_eigenvalues(loss_fn, model, k=top_k, key=k_eig, iters=iters, return_error=True)
        trace, stderr, trace_err = hessian_trace(loss_fn, model, key=k_tr, samples=samples, return_error=True)
        loss = float(loss_fn(model))
        loss_err = _loss_rounding(loss_fn, model, loss, key=k_rd)
        if density:  # resolved: no RoundingWarning (rounding below the largest |node|, which is not returned)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                grid, dens, dens_err = spectral_density(loss_fn, model, key=k_sd, iters=density_iters,
                                                        runs=density_runs, return_error=True)
            for w in caught:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            dens_resolved = not any(issubclass(w.category, RoundingWarning) for w in caught)
    norm = _norm(model)
    n_params = sum(x.size for x in jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array)))
    norm_err = n_params * float(np.finfo(np.float64).eps) * norm  # |θ| is summed in float64 from the exact weights
    report = {
        "algorithm": algorithm, "model": source, "precision": precision, "scale": scale,
        "rounding_method": rounding["method"], "hvp_relative_rounding": rounding["relative"],
        "loss": loss, "loss_rounding": loss_err, "loss_resolved": resolved(loss, loss_err),
        "parameter_norm": norm, "parameter_norm_rounding": norm_err,
        "top_eigenvalues": eig.tolist(), "top_eigenvalues_rounding": eig_err.tolist(),
        "top_eigenvalues_resolved": resolved(eig, eig_err).tolist(),
        "top_eigenvalues_times_norm_squared": (eig * norm**2).tolist(),
        "top_eigenvalues_times_norm_squared_rounding": (eig_err * norm**2).tolist(),
        "trace": trace, "trace_stderr": stderr, "trace_rounding": trace_err,
        "trace_resolved": resolved(trace, trace_err),
        "settings": {"top_k": top_k, "iters": iters, "samples": samples, "seed": seed, "x64": x64, "scale": scale,
                     "density": {"iters": density_iters, "runs": density_runs} if density else None,
                     "eval_batch": {**EVAL_BATCH, "seed": 0}, "versions": versions()},
    }
    out.mkdir(parents=True, exist_ok=True)
    if density:
        report["density"] = _density_figure(out, grid, dens, dens_err, dens_resolved,
                                            f"{algorithm} {source} ({precision})")
    (out / "hessian.json").write_text(json.dumps(report, indent=2))
    return report


def connect_figure(png: Path, t, on_line, on_curve, *, bends: int, a: str, b: str) -> Path:
    """Draw the loss along the straight line and along the trained curve (``connect.json``'s
    ``t``, ``loss_line``, ``loss_curve``) from model ``a`` (t = 0) to ``b`` (t = 1).

    **Arguments:**

    - `png`: the figure to write.
    - `t`, `on_line`, `on_curve`: the points and the two paths' losses there.
    - `bends`: the curve's bends, for the legend.
    - `a`, `b`: the two models as recorded (``recorded_path``), for the axis label.

    **Returns:**

    ``png``.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.semilogy(t, np.maximum(on_line, 1e-12), label="straight line")
    ax.semilogy(t, np.maximum(on_curve, 1e-12), label=f"trained curve ({bends} bend{'s' * (bends > 1)})")
    ax.set_xlabel(f"t (0: {a}, 1: {b})")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=130)
    plt.close(fig)
    return Path(png)


def connect_models(a_spec: str, b_spec: str, algorithm: str, out: Path, *, bends: int = 1, steps: int = 1000,
                   lr: float = 1e-2, seed: int = 0, points: int = 101, progress: bool = True) -> dict:
    """Train a Bézier curve with ``bends`` bends from model ``a_spec`` to ``b_spec``
    (``landscape.connect``, key ``jax.random.key(seed)``) on the evaluation-batch loss;
    write the loss along the straight line and along the curve (``out/connect.png``,
    ``out/connect.json``, ``out/curve-mid.eqx``: the curve's model at t = 0.5) and
    return the barriers. The models' paths are recorded and labelled as ``recorded_path``
    gives them."""
    from ..nn import save

    a, a_src = resolve_model(a_spec, algorithm)
    b, b_src = resolve_model(b_spec, algorithm)
    if a.config != b.config:
        raise ValueError(f"the two models have different architectures ({a_src}: {a.config}; {b_src}: {b.config}); "
                         "a curve joins models of one architecture")
    loss_fn = loss_on_eval_batch(algorithm)
    curve = connect(loss_fn, a, b, bends=bends, steps=steps, key=jax.random.key(seed), lr=lr, progress=progress)
    t, on_line = along_curve(loss_fn, line(a, b), points=points)
    _, on_curve = along_curve(loss_fn, curve, points=points)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    connect_figure(out / "connect.png", t, on_line, on_curve, bends=bends, a=a_src, b=b_src)
    save(out / "curve-mid.eqx", curve(0.5), source="curve midpoint", a=a_src, b=b_src, bends=bends)
    report = {"algorithm": algorithm, "a": a_src, "b": b_src, "bends": bends, "steps": steps, "lr": lr, "seed": seed,
              "barrier_line": barrier(loss_fn, (a, b), points=points), "barrier_curve": barrier(loss_fn, curve, points=points),
              "t": t.tolist(), "loss_line": on_line.tolist(), "loss_curve": on_curve.tolist()}
    (out / "connect.json").write_text(json.dumps(report, indent=2))
    return report
