"""eqgat's adapter of the generic ``landscape`` package: everything eqgat-specific that
``python -m landscape plot|compare|trajectory`` runs.

- the metrics: dm-clrs' loss and the CLRS output score on a fixed, seeded batch;
- the models: ``compiled``, ``init`` or a checkpoint (``resolve_model``);
- surfaces around one model, saved with the settings that made them (``surface_around``);
- ``compare``: compiled vs learned, and the plane through compiled, learned and init;
- ``trajectory``: Li et al.'s PCA plane of a saved training trajectory;

Curvature and connecting curves at these models are in ``eqgat.workflows.curvature``.

The stability runner (retraining from the compiled model) is a training workflow, in
``eqgat.workflows.stability``.
"""

import json
import os
from importlib.metadata import version
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from landscape import SPANS, evaluate_surface, grid_axes, interpolate, pca_directions, plane, random_direction
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
