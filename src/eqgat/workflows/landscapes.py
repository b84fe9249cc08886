"""eqgat's adapter of the generic ``landscape`` package: everything eqgat-specific that
``python -m landscape plot|compare|trajectory`` runs.

- the metrics: dm-clrs' loss and the CLRS output score on a fixed, seeded batch;
- the models: ``compiled``, ``init`` or a checkpoint (``resolve_model``);
- surfaces around one model, saved with the settings that made them (``surface_around``);
- ``compare``: compiled vs learned, and the plane through compiled, learned and init;
- ``trajectory``: Li et al.'s PCA plane of a saved training trajectory;
- ``curvature``: Hessian top eigenvalues, trace and spectral density at a model;
- ``connect_models``: a trained low-loss curve between two models, against the line.

The stability runner (retraining from the compiled model) is a training workflow, in
``eqgat.workflows.stability``.
"""

import json
import os
import warnings
from importlib.metadata import version
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from landscape import (SPANS, along_curve, barrier, connect, evaluate_surface, grid_axes, hessian_trace, interpolate,
                       hvp_rounding, line, pca_directions, plane, random_direction, spectral_density, top_eigenvalues)
from landscape import RoundingWarning, resolved, x64_available
from landscape.plot import plot_compare, plot_curve, plot_surface

from ..nn import load
from ..nn import output_scores
from ..nn import prediction_losses
from ..nn import Model, run_batch
from ..compiler import compile_algorithm, compiled_algorithms

#: The evaluation batch every surface is drawn on (test distribution: ids i/n, p = 0.5).
EVAL_BATCH = {"nb_nodes": 16, "batch_size": 32}


def landscape_batch(algorithm: str, *, nb_nodes: int = EVAL_BATCH["nb_nodes"],
                    batch_size: int = EVAL_BATCH["batch_size"], seed: int = 0):
    """The batch surfaces are drawn on: ``batch_size`` test-distribution graphs (ids i/n,
    p = 0.5) from a dm-clrs sampler seeded with ``seed`` (``eqgat.data.evaluation_batch``'s
    ``sampler`` split), time axis cut to its longest trace."""
    from ..data import evaluation_batch

    return evaluation_batch(algorithm, "sampler", length=nb_nodes, samples=batch_size, seed=seed).trimmed()


def metrics_on(batch):
    """``model -> {'loss', 'score'}`` on ``batch``: dm-clrs' loss (outputs + hints) and the
    mean fraction of correct output entries (pointers: argmax equal)."""

    def metrics(model: Model):
        pred = run_batch(model, batch)
        losses = prediction_losses(model, pred, batch)
        return {"loss": sum(losses.values()), "score": output_scores(model.spec, pred.outputs, batch.outputs)}

    return metrics


def recorded_path(path: str | os.PathLike) -> str:
    """``path`` as records (JSON, checkpoint metadata) and figure labels name it, so that
    they travel with the files they name: a relative path as given; an absolute path inside
    the working directory relative to it (what one types there, e.g. at the repository's
    root); any other absolute path as given (it names nothing the working directory holds).

    **Arguments:**

    - `path`: a path as the user gave it (``--model``, ``--b``, ``--out``, ...).

    **Returns:**

    The path to record, a string.
    """
    p = Path(path)
    if not p.is_absolute():
        return str(path)
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def versions() -> dict[str, str]:
    return {"jax": jax.__version__, "equinox": eqx.__version__, "eqgat": version("eqgat")}


def resolve_model(spec: str, algorithm: str, *, hidden_size: int | None = None, seed: int = 0) -> tuple[Model, str]:
    """``(model, description)`` for ``spec``: 'compiled' (the algorithm's compiled model, at
    its minimal hidden size by default), 'init' (a fresh model of the compiled
    architecture from ``jax.random.key(seed)``) or a checkpoint path (described by
    ``recorded_path``: as given, or relative to the working directory)."""
    if algorithm not in compiled_algorithms():
        raise ValueError(f"unknown algorithm {algorithm!r}; compiled algorithms: {', '.join(compiled_algorithms())}")
    if spec == "compiled":
        return compile_algorithm(algorithm, hidden_size), "compiled"
    if spec == "init":
        compiled = compile_algorithm(algorithm, hidden_size)
        return Model(compiled.config, key=jax.random.key(seed)), f"init(key {seed})"
    path = Path(spec)
    if not path.exists():
        raise ValueError(f"--model {spec!r} is neither 'compiled', 'init' nor an existing checkpoint")
    model = load(path)
    if model.algorithm != algorithm:
        raise ValueError(f"{path} is a {model.algorithm} model, not {algorithm}")
    return model, recorded_path(path)


def surface_around(model: Model, source: str, algorithm: str, *, grid: tuple[int, int],
                   span: tuple[str, tuple[float, float]], out: Path, seed: int = 0, bias: str = "zero",
                   batch_seed: int = 0, resume: bool = False, force: bool = False, chunk: int = 16,
                   progress: bool = True, directions=None, coords=None, anchors=None,
                   directions_name: str | None = None, devices: int | None = None) -> dict[str, np.ndarray]:
    """Evaluate loss and score on the ``grid`` around ``model`` (random filter-normalised
    directions from ``jax.random.key(seed)``, split in two, unless ``directions`` are
    given) and save the surface at ``out`` with every setting; returns the grids.
    ``span`` is ``(name, (low, high))``; ``coords`` marks models at (a, b)."""
    span_name, (lo, hi) = span
    batch = landscape_batch(algorithm, seed=batch_seed)
    normalization = "none (explicit directions)" if directions is not None else \
        f"filter-wise; 1-D leaves {'zeroed' if bias == 'zero' else 'normalised'}"
    if directions is None:
        k1, k2 = jax.random.split(jax.random.key(seed))
        directions = (random_direction(model, k1, bias=bias), random_direction(model, k2, bias=bias))
    a, b = grid_axes((lo, hi), (lo, hi), grid)
    meta = {
        "algorithm": algorithm, "model": source,
        "directions": directions_name or ("random filter-normalised" if coords is None else "plane"),
        "directions_seed": seed, "normalization": normalization, "span": [lo, hi], "span_name": span_name,
        "eval_batch": {**EVAL_BATCH, "seed": batch_seed}, "versions": versions(), "coords": coords or {},
    }
    return evaluate_surface(model, metrics_on(batch), *directions, a, b, chunk=chunk, out=out, meta=meta,
                            resume=resume, force=force, progress=progress, anchors=anchors, devices=devices)


def plot_around(model_spec: str, algorithm: str, out: Path, *, metric: str = "loss", **kw) -> tuple[Path, Path]:
    """``surface_around`` the model named by ``model_spec``, saved beside the PNG ``out``
    and plotted; returns (surface .npz, PNG; None in processes other than 0)."""
    model, source = resolve_model(model_spec, algorithm, seed=kw.get("seed", 0))
    npz = Path(out).with_suffix(".npz")
    surface_around(model, source, algorithm, out=npz, **kw)
    if jax.process_index() != 0:  # several processes: process 0 holds the files
        return npz, None
    return npz, plot_surface(npz, out, metric)


def compare(algorithm: str, learned: Model, learned_source: str, out: Path, *, grid: tuple[int, int],
            metric: str = "loss", seed: int = 0, resume: bool = False, force: bool = False) -> dict[str, Path]:
    """Compiled vs ``learned`` (general and local views around each), the plane through
    compiled, learned and init (``jax.random.key(seed)``) with each model marked, and the
    loss along the line from compiled to learned. Returns the figures by name."""
    compiled, _ = resolve_model("compiled", algorithm)
    if learned.config != compiled.config:
        raise ValueError(f"the learned model's architecture {learned.config} differs from the compiled one "
                         f"{compiled.config}; train it with the same switches")
    out.mkdir(parents=True, exist_ok=True)
    init, _ = resolve_model("init", algorithm, seed=seed)
    paths = {"compiled": [], "learned": []}
    for name, model, src in (("compiled", compiled, "compiled"), ("learned", learned, learned_source)):
        for span in ("general", "local"):
            npz = out / f"{name}-{span}.npz"
            surface_around(model, src, algorithm, grid=grid, span=(span, SPANS[span]), seed=seed, out=npz,
                           force=force, resume=resume, coords={name: (0.0, 0.0)})
            paths[name].append(npz)
    figures = {"compare": plot_compare(paths, out / f"compare-{algorithm}.png", metric)}
    pl = plane(compiled, learned, init)
    lo = min(-0.5, float(pl.coords.min()) - 0.5)
    hi = max(1.5, float(pl.coords.max()) + 0.5)
    npz = out / "plane.npz"
    surface_around(compiled, "plane(compiled, learned, init)", algorithm, grid=grid, span=(f"{lo:g}:{hi:g}", (lo, hi)),
                   seed=seed, out=npz, force=force, resume=resume, directions=(pl.d1, pl.d2),
                   anchors=(learned, init, pl.weights),
                   coords={"compiled": pl.coords[0].tolist(), "learned": pl.coords[1].tolist(),
                           "init": pl.coords[2].tolist()})
    figures["plane"] = plot_surface(npz, out / f"plane-{algorithm}.png", metric)
    ts = np.linspace(0, 1, 41)
    scores = test_scores({"compiled": compiled, "learned": learned})
    (out / "compare.json").write_text(json.dumps({
        "algorithm": algorithm, "learned": learned_source, "seed": seed, "grid": list(grid),
        "test": {"split": "CLRS-30 test (n=64)", **scores}, "plane_coords": pl.coords.tolist()}, indent=2))
    figures["curve"] = plot_curve(ts, interpolate(compiled, learned, metrics_on(landscape_batch(algorithm)), ts),
                                  out / f"interpolate-compiled-learned-{algorithm}.png",
                                  title=f"{algorithm}: compiled (t=0) to learned (t=1)")
    return figures


def test_scores(models: dict[str, Model]) -> dict[str, float]:
    """Each model's CLRS output score on the CLRS-30 test split (n = 64)."""
    from ..nn import output_score, predict
    from ..data import evaluation_batch

    batch = evaluation_batch(next(iter(models.values())).algorithm, "test")
    return {name: output_score(m, predict(m, batch), batch) for name, m in models.items()}


def load_trajectory(run: Path, seed: int | None = None) -> tuple[Model, list[Model], int]:
    """Seed ``seed``'s final model and its parameter snapshots from a train folder
    (``trajectory.npz``: one ``[snapshots, seeds, ...]`` array per parameter, named by its
    path in the model)."""
    run = Path(run)
    summary, traj = run / "summary.json", run / "trajectory.npz"
    if not summary.exists() or not traj.exists():
        raise ValueError(f"{run} has no summary.json and trajectory.npz: train with --out {run} --trajectory-every N")
    seeds = json.loads(summary.read_text())["seeds"]
    seed = seeds[0] if seed is None else seed
    if seed not in seeds:
        raise ValueError(f"seed {seed} is not in {run} (seeds {seeds})")
    final = load(run / f"seed{seed}.eqx")
    params, static = eqx.partition(final, eqx.is_inexact_array)
    named, tree = jax.tree_util.tree_flatten_with_path(params)
    data = np.load(traj)
    names = [jax.tree_util.keystr(path) for path, _ in named]
    if missing := [n for n in names if n not in data]:
        raise ValueError(f"{traj} does not match the architecture of seed{seed}.eqx (no arrays {missing[:3]} ...)")
    stacked = [data[n] for n in names]  # [snapshots, seeds, ...]
    if any(x.shape[2:] != leaf.shape for x, (_, leaf) in zip(stacked, named)):
        raise ValueError(f"{traj} does not match the shapes of seed{seed}.eqx")
    k = seeds.index(seed)
    snapshots = [eqx.combine(jax.tree.unflatten(tree, [x[t, k] for x in stacked]), static)
                 for t in range(stacked[0].shape[0])]
    return final, snapshots, seed


def trajectory(run: Path, out: Path | None = None, *, seed: int | None = None, grid: tuple[int, int] = (25, 25),
               metric: str = "loss", force: bool = False) -> tuple[Path, Path, np.ndarray]:
    """Li et al.'s trajectory plot: PCA directions of the snapshots around the final model,
    the surface in that plane, and the path projected on it. Returns (surface, PNG, the
    explained variance of both directions)."""
    final, snapshots, seed = load_trajectory(run, seed)
    d1, d2, coords, explained = pca_directions(snapshots + [final], final)
    reach = float(np.abs(coords).max()) * 1.2 or 1.0
    out = Path(out or Path(run) / f"trajectory-seed{seed}.png")
    npz = out.with_suffix(".npz")
    surface_around(final, recorded_path(Path(run) / f"seed{seed}.eqx"), final.algorithm, grid=grid,
                   span=(f"{-reach:g}:{reach:g}", (-reach, reach)), out=npz, force=force,
                   directions=(d1, d2), directions_name=f"PCA of {len(snapshots)} snapshots "
                   f"(explained variance {explained[0]:.3f}, {explained[1]:.3f})")
    return npz, plot_surface(npz, out, metric, trajectory=coords), explained


def loss_on_eval_batch(algorithm: str, *, batch_seed: int = 0):
    """``model -> loss``: dm-clrs' loss on the surfaces' batch (``landscape_batch``)."""
    metrics = metrics_on(landscape_batch(algorithm, seed=batch_seed))
    return lambda model: metrics(model)["loss"]


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
