"""``python -m landscape {plot,compare,trajectory,stability}``."""

import argparse
import sys
from pathlib import Path



def _grid(text: str) -> tuple[int, int]:
    try:
        parts = [int(x) for x in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"grid must be N or AxB, got {text!r}") from None
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"grid must have at least 1 point per axis, got {text!r}")
    return parts[0], parts[1]


def _span(text: str):
    from ._surface import parse_span

    try:
        return text, parse_span(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def versions() -> dict:
    import equinox
    import jax

    import eqgat  # noqa: F401
    from importlib.metadata import version

    return {"jax": jax.__version__, "equinox": equinox.__version__, "eqgat": version("eqgat")}


def load_model(spec: str, algo: str, *, hidden_size: int | None = None, seed: int = 0):
    """'compiled' (the algorithm's compiled model, at its minimal hidden size by default),
    'init' (a fresh model of the same architecture, key ``seed``) or a checkpoint path."""
    import eqgat
    from eqgat import programs
    from eqgat._checkpoint import model_config, model_from_config

    if spec == "compiled":
        return eqgat.compile_program(programs.PROGRAMS[algo], hidden_size), "compiled"
    if spec == "init":
        compiled = eqgat.compile_program(programs.PROGRAMS[algo], hidden_size)
        import jax

        return model_from_config(model_config(compiled), key=jax.random.key(seed)), f"init(key {seed})"
    path = Path(spec)
    if not path.exists():
        raise SystemExit(f"error: --model {spec!r} is neither 'compiled', 'init' nor an existing checkpoint")
    try:
        model = eqgat.load(path)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    if model.algorithm != algo:
        raise SystemExit(f"error: {path} is a {model.algorithm} model, not {algo}")
    return model, str(path)


def surface_for(model, source: str, algo: str, *, grid, span, metric_names=("loss", "score"), seed=0,
                bias="zero", batch_seed=0, out=None, resume=False, force=False, chunk=16, progress=True,
                directions=None, coords=None, anchors=None, directions_name=None):
    """Evaluate and save the surface around ``model``; returns (the .npz path, the grid)."""
    import jax
    import numpy as np

    from ._directions import random_direction
    from ._metrics import eqgat_metrics, eval_batch
    from ._surface import evaluate_surface, grid_axes

    span_name, (lo, hi) = span
    batch = eval_batch(algo, seed=batch_seed)
    normalization = "none (explicit directions)" if directions is not None else \
        f"filter-wise; 1-D leaves {'zeroed' if bias == 'zero' else 'normalised'}"
    if directions is None:
        k1, k2 = jax.random.split(jax.random.key(seed))
        directions = (random_direction(model, k1, bias=bias), random_direction(model, k2, bias=bias))
    a, b = grid_axes((lo, hi), (lo, hi), grid)
    meta = {
        "algorithm": algo, "model": source, "directions": directions_name or ("random filter-normalised" if coords is None else "plane"),
        "directions_seed": seed, "normalization": normalization,
        "span": [lo, hi], "span_name": span_name, "eval_batch": {"nb_nodes": 16, "batch_size": 32, "seed": batch_seed},
        "versions": versions(), "coords": coords or {}, "coord_names": list((coords or {}).keys()),
    }
    res = evaluate_surface(model, eqgat_metrics(batch), *directions, a, b, chunk=chunk, out=out, meta=meta,
                           resume=resume, force=force, progress=progress, anchors=anchors)
    return out, res


def cmd_plot(args) -> int:
    from ._plot import plot_surface

    model, source = load_model(args.model, args.algo, seed=args.seed)
    out = Path(args.out or f"out/landscape-{args.algo}-{Path(args.model).stem}-{args.span[0].replace(':', '_')}.png")
    npz = out.with_suffix(".npz")
    surface_for(model, source, args.algo, grid=args.grid, span=args.span, seed=args.seed, bias=args.bias,
                out=npz, resume=args.resume, force=args.force, chunk=args.chunk)
    png = plot_surface(npz, out, args.metric)
    print(f"surface: {npz} (+ {npz.name}.json)\nplot:    {png}")
    return 0


def plot_default(out: str, grid: int = 51) -> None:
    """The demo's landscape: minimal compiled BFS, general span (overwrites)."""
    from ._plot import plot_surface

    model, source = load_model("compiled", "bfs")
    npz = Path(out).with_suffix(".npz")
    surface_for(model, source, "bfs", grid=(grid, grid), span=_span("general"), out=npz, force=True)
    print(f"   wrote {plot_surface(npz, out)} (surface {npz})")


def cmd_compare(args) -> int:
    """Compiled vs learned (general and local views) and the plane through compiled,
    learned and init with each model marked."""
    import jax

    import eqgat
    from ._directions import plane
    from ._plot import plot_compare, plot_curve
    from ._metrics import eqgat_metrics, eval_batch
    from ._surface import interpolate

    outdir = Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    compiled, _ = load_model("compiled", args.algo)
    if args.learned:
        learned, lsrc = load_model(args.learned, args.algo)
    else:
        from eqgat.train import TrainConfig, train, unstack

        print(f"no --learned given: training the compiled architecture for {args.steps} steps (seed {args.seed}) ...")
        tc = TrainConfig(algo=args.algo, model=compiled.config, steps=args.steps, lr=1e-3, seed=args.seed,
                         val_every=0)
        learned = unstack(train(tc, test=False, out=outdir / "learned").models, 0)
        lsrc = str(outdir / "learned" / f"seed{args.seed}.eqx")
    if eqgat.model_config(learned) != eqgat.model_config(compiled):
        raise SystemExit(f"error: the learned model's architecture {eqgat.model_config(learned)} differs from the "
                         f"compiled one {eqgat.model_config(compiled)}; train it with the same switches")
    init, isrc = load_model("init", args.algo, seed=args.seed)
    paths = {"compiled": [], "learned": []}
    for name, model, src in (("compiled", compiled, "compiled"), ("learned", learned, lsrc)):
        for span in ("general", "local"):
            npz = outdir / f"{name}-{span}.npz"
            surface_for(model, src, args.algo, grid=args.grid, span=_span(span), seed=args.seed, out=npz,
                        force=args.force, resume=args.resume, coords={name: (0.0, 0.0)})
            paths[name].append(npz)
    fig = plot_compare(paths, outdir / f"compare-{args.algo}.png", args.metric)
    pl = plane(compiled, learned, init)
    npz = outdir / "plane.npz"
    lo = min(-0.5, float(pl.coords.min()) - 0.5)
    hi = max(1.5, float(pl.coords.max()) + 0.5)
    surface_for(compiled, "plane(compiled, learned, init)", args.algo, grid=args.grid, span=(f"{lo:g}:{hi:g}", (lo, hi)),
                seed=args.seed, out=npz, force=args.force, resume=args.resume, directions=(pl.d1, pl.d2),
                anchors=(learned, init, pl.weights),
                coords={"compiled": pl.coords[0].tolist(), "learned": pl.coords[1].tolist(), "init": pl.coords[2].tolist()})
    from ._plot import plot_surface

    plane_png = plot_surface(npz, outdir / f"plane-{args.algo}.png", args.metric)
    import numpy as np

    metrics = eqgat_metrics(eval_batch(args.algo))
    ts = np.linspace(0, 1, 41)
    curve = plot_curve(ts, interpolate(compiled, learned, metrics, ts), outdir / f"interpolate-compiled-learned-{args.algo}.png",
                       title=f"{args.algo}: compiled (t=0) to learned (t=1)")
    print(f"compare: {fig}\nplane:   {plane_png}\ncurve:   {curve}")
    return 0


def load_trajectory(run: Path, seed: int | None = None):
    """Seed ``seed``'s final model and its parameter snapshots from a train folder."""
    import json

    import jax
    import numpy as np

    import eqgat
    from ._directions import params_of

    run = Path(run)
    summary, traj = run / "summary.json", run / "trajectory.npz"
    if not summary.exists() or not traj.exists():
        raise SystemExit(f"error: {run} has no summary.json and trajectory.npz: train with --out {run} --trajectory-every N")
    seeds = json.loads(summary.read_text())["seeds"]
    seed = seeds[0] if seed is None else seed
    if seed not in seeds:
        raise SystemExit(f"error: seed {seed} is not in {run} (seeds {seeds})")
    final = eqgat.load(run / f"seed{seed}.eqx")
    leaves, tree = jax.tree.flatten(params_of(final))
    data = np.load(traj)
    stacked = [data[f"arr_{j}"] for j in range(len(leaves))]  # [snapshots, seeds, ...]
    if any(x.shape[2:] != leaf.shape for x, leaf in zip(stacked, leaves)):
        raise SystemExit(f"error: {traj} does not match the architecture of seed{seed}.eqx")
    k = seeds.index(seed)
    snapshots = [jax.tree.unflatten(tree, [x[t, k] for x in stacked]) for t in range(stacked[0].shape[0])]
    return final, snapshots, seed


def cmd_trajectory(args) -> int:
    """Li et al.'s trajectory plot: PCA directions of the snapshots around the final model,
    the surface in that plane, and the path projected on it."""
    import numpy as np

    from ._directions import pca_directions
    from ._plot import plot_surface

    final, snapshots, seed = load_trajectory(Path(args.run), args.seed)
    d1, d2, coords, explained = pca_directions(snapshots + [final], final)
    reach = float(np.abs(coords).max()) * 1.2 or 1.0
    out = Path(args.out or Path(args.run) / f"trajectory-seed{seed}.png")
    npz = out.with_suffix(".npz")
    surface_for(final, f"{args.run}/seed{seed}.eqx", final.algorithm, grid=args.grid,
                span=(f"{-reach:g}:{reach:g}", (-reach, reach)), out=npz, force=args.force,
                directions=(d1, d2), directions_name=f"PCA of {len(snapshots)} snapshots "
                f"(explained variance {explained[0]:.3f}, {explained[1]:.3f})")
    png = plot_surface(npz, out, args.metric, trajectory=coords)
    print(f"surface: {npz}\nplot:    {png} (explained variance {explained[0]:.3f}, {explained[1]:.3f})")
    return 0


def add_stability_command(sub) -> None:
    p = sub.add_parser("stability", help="retrain from the compiled initialisation with R data orders")
    p.add_argument("--algo", required=True, choices=["bfs", "bellman_ford"])
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--parallel", type=int, default=4, help="runs vmapped in one program")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None)
    p.set_defaults(fn=cmd_stability)


def cmd_stability(args) -> int:
    from eqgat.stability import run

    out = Path(args.out or f"out/stability-{args.algo}")
    s = run(args.algo, args.runs, args.steps, out, parallel=args.parallel, seed=args.seed, lr=args.lr)
    print(f"{args.algo}: compiled -> trained {args.steps} steps, {s['n']} runs: test {s['test_mean']:.2f}% ± "
          f"{s['test_std']:.2f}% (max {s['test_max']:.2f}%), mean relative distance travelled {s['relative_distance_mean']:.3g}")
    print(f"results: {out / 'stability.json'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m landscape", description="filter-normalised loss landscapes")
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's and absl's start-up logging")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("plot", help="evaluate and plot the surface around one model")
    p.add_argument("--algo", default="bfs", choices=["bfs", "bellman_ford"])
    p.add_argument("--model", default="compiled", help="compiled, init, or a checkpoint path")
    p.add_argument("--grid", type=_grid, default=(51, 51), help="N or AxB points (default 51)")
    p.add_argument("--span", type=_span, default=_span("general"), help="general, local or LOW:HIGH")
    p.add_argument("--metric", choices=["loss", "score"], default="loss")
    p.add_argument("--bias", choices=["zero", "normalize"], default="zero", help="1-D leaves in directions")
    p.add_argument("--seed", type=int, default=0, help="directions seed (and init key)")
    p.add_argument("--chunk", type=int, default=16, help="grid points evaluated per vmapped chunk (16 was fastest on a 2-core CPU)")
    p.add_argument("--out", help="PNG path (the surface .npz goes beside it)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted surface")
    p.add_argument("--force", action="store_true", help="overwrite an existing surface")
    p.set_defaults(fn=cmd_plot)

    p = sub.add_parser("compare", help="compiled vs learned surfaces, and the plane through compiled/learned/init")
    p.add_argument("--algo", default="bfs", choices=["bfs", "bellman_ford"])
    p.add_argument("--learned", help="checkpoint of a learned model with the compiled architecture")
    p.add_argument("--steps", type=int, default=500, help="training steps when no --learned is given")
    p.add_argument("--grid", type=_grid, default=(25, 25))
    p.add_argument("--metric", choices=["loss", "score"], default="loss")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="out/compare")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--force", action="store_true")
    p.set_defaults(fn=cmd_compare)

    p = sub.add_parser("trajectory", help="PCA directions of a saved training trajectory, with the path drawn on the surface")
    p.add_argument("--run", required=True, help="a train output folder made with --trajectory-every N")
    p.add_argument("--seed", type=int, default=None, help="which seed of the run (default: its first)")
    p.add_argument("--grid", type=_grid, default=(25, 25))
    p.add_argument("--metric", choices=["loss", "score"], default="loss")
    p.add_argument("--out", help="PNG path (default RUN/trajectory-seedS.png; the surface .npz beside it)")
    p.add_argument("--force", action="store_true", help="overwrite an existing surface")
    p.set_defaults(fn=cmd_trajectory)

    add_stability_command(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `python -m landscape` alone: the default plot
        args = parser.parse_args(["plot"] + (argv or []))
    from ._surface import OutputExists

    if not args.verbose:
        from eqgat._quiet import quiet_clrs

        quiet_clrs()
    try:
        return args.fn(args)
    # bad input, or an output that exists (never silently reused): say what, no traceback
    except (ValueError, FileNotFoundError, OutputExists) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
