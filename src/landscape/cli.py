"""``python -m landscape {plot,compare,trajectory,stability,hessian,connect}``: the command line, on top of
eqgat's adapter (``eqgat.workflows.landscapes``) and its stability runner (``eqgat.workflows.stability``)."""

import argparse
import json
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


def cmd_plot(args) -> int:
    from eqgat.workflows.landscapes import plot_around

    from .devices import initialize_processes

    initialize_processes(args.coordinator, args.num_processes, args.process_id)

    out = Path(args.out or f"out/landscape-{args.algo}-{Path(args.model).stem}-{args.span[0].replace(':', '_')}.png")
    npz, png = plot_around(args.model, args.algo, out, metric=args.metric, grid=args.grid, span=args.span,
                           seed=args.seed, bias=args.bias, resume=args.resume, force=args.force, chunk=args.chunk,
                           devices=args.devices)
    if png is not None:
        print(f"surface: {npz} (+ {npz.name}.json)\nplot:    {png}")
    return 0


def cmd_compare(args) -> int:
    """Compiled vs learned (general and local views) and the plane through compiled,
    learned and init with each model marked."""
    from eqgat.workflows.landscapes import compare, recorded_path, resolve_model

    outdir = Path(args.out)
    if args.learned:
        learned, source = resolve_model(args.learned, args.algo)
    else:
        from eqgat.workflows.training import TrainConfig, train, unstack

        compiled, _ = resolve_model("compiled", args.algo)
        print(f"no --learned given: training the compiled architecture for {args.steps} steps (seed {args.seed}) ...")
        tc = TrainConfig(algo=args.algo, model=compiled.config, steps=args.steps, lr=args.lr, seed=args.seed,
                         val_every=0)
        learned = unstack(train(tc, test=False, out=outdir / "learned").models, 0)
        source = recorded_path(outdir / "learned" / f"seed{args.seed}.eqx")
    figs = compare(args.algo, learned, source, outdir, grid=args.grid, metric=args.metric, seed=args.seed,
                   resume=args.resume, force=args.force)
    scores = json.loads((outdir / "compare.json").read_text())["test"]
    print(f"test (CLRS-30, n=64): compiled {100 * scores['compiled']:.2f}%, learned {100 * scores['learned']:.2f}% ({source})")
    print(f"compare: {figs['compare']}\nplane:   {figs['plane']}\ncurve:   {figs['curve']}\nscores:  {outdir / 'compare.json'}")
    return 0


def cmd_trajectory(args) -> int:
    """Li et al.'s trajectory plot: PCA directions of the snapshots around the final model,
    the surface in that plane, and the path projected on it."""
    from eqgat.workflows.landscapes import trajectory

    npz, png, explained = trajectory(Path(args.run), args.out, seed=args.seed, grid=args.grid, metric=args.metric,
                                     force=args.force)
    print(f"surface: {npz}\nplot:    {png} (explained variance {explained[0]:.3f}, {explained[1]:.3f})")
    return 0


def _measured(value: float, err: float, resolved: bool | None = None) -> str:
    """``VALUE ± ERR (rounding estimate)``, or ``unresolved (rounding ~ERR)`` where the
    rounding estimate is as large as the value (at least half: ``landscape.resolved``):
    never a bare number."""
    if resolved is None:
        from ._curvature import resolved as is_resolved

        resolved = is_resolved(value, err)
    return f"{value:.4g} ± {err:.2g} (rounding estimate)" if resolved else f"unresolved (rounding ~{err:.2g})"


def cmd_hessian(args) -> int:
    import warnings

    from eqgat.workflows.curvature import curvature

    from ._curvature import RoundingWarning

    out = Path(args.out or f"out/hessian-{args.algo}-{Path(args.model).stem}")
    with warnings.catch_warnings():  # each number below says itself whether it is resolved
        warnings.simplefilter("ignore", RoundingWarning)
        r = curvature(args.model, args.algo, out, top_k=args.top_k, iters=args.iters, samples=args.samples,
                      density=args.density, density_iters=args.density_iters, density_runs=args.density_runs,
                      seed=args.seed, x64=args.x64, scale=args.scale)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"{args.algo} {r['model']} [{r['precision']}]: Hessian-vector products' rounding ({r['rounding_method']}) "
          f"~{r['hvp_relative_rounding']:.2g} of their size")
    print(f"  loss {_measured(r['loss'], r['loss_rounding'], r['loss_resolved'])}")
    print(f"  |θ| {_measured(r['parameter_norm'], r['parameter_norm_rounding'])}")
    for lam, err, ok, lam_n, err_n in zip(r["top_eigenvalues"], r["top_eigenvalues_rounding"],
                                          r["top_eigenvalues_resolved"], r["top_eigenvalues_times_norm_squared"],
                                          r["top_eigenvalues_times_norm_squared_rounding"]):
        print(f"  eigenvalue {_measured(lam, err, ok)}   (× |θ|²: {_measured(lam_n, err_n, ok)})")
    print(f"  trace {_measured(r['trace'], r['trace_rounding'], r['trace_resolved'])}; "
          f"Hutchinson's standard error ± {r['trace_stderr']:.2g}")
    if "density" in r:
        d = r["density"]
        print(f"  spectral density: extent {_measured(d['extent'], d['rounding'], d['resolved'])}")
    if not (r["loss_resolved"] and all(r["top_eigenvalues_resolved"]) and r["trace_resolved"]
            and r.get("density", {}).get("resolved", True)):
        print("  unresolved: the rounding estimate is as large as the value, which is rounding noise, not curvature "
              "(try --x64, or --scale for a compiled model)")
    print(f"results: {out / 'hessian.json'}" + (f", {r['density']['png']}" if "density" in r else ""))
    return 0


def cmd_connect(args) -> int:
    from eqgat.workflows.curvature import connect_models

    out = Path(args.out or f"out/connect-{args.algo}")
    r = connect_models(args.a, args.b, args.algo, out, bends=args.bends, steps=args.steps, lr=args.lr, seed=args.seed,
                       points=args.points)
    print(f"{args.algo}: loss barrier along the straight line {r['barrier_line']:.4g}, along the trained curve "
          f"({args.bends} bend(s), {args.steps} steps) {r['barrier_curve']:.4g}")
    print(f"results: {out / 'connect.json'}, {out / 'connect.png'}")
    return 0


def _compiled() -> list[str]:
    """Registered algorithms with a program and a sampler (``eqgat.algorithms``)."""
    from eqgat.algorithms import names

    return names(sampled=True, compiled=True)


def add_curvature_commands(sub) -> None:
    p = sub.add_parser("hessian", help="Hessian top eigenvalues, trace and spectral density at a model")
    p.add_argument("--algo", default="bfs", choices=_compiled())
    p.add_argument("--model", default="compiled", help="compiled, init, or a checkpoint path")
    p.add_argument("--top-k", type=_positive, default=3)
    p.add_argument("--iters", type=_positive, default=100, help="Lanczos steps (Hessian-vector products)")
    p.add_argument("--samples", type=_positive, default=100, help="Hutchinson probes for the trace")
    p.add_argument("--density", action="store_true", help="also the spectral density (stochastic Lanczos quadrature)")
    p.add_argument("--density-iters", type=_positive, default=80, help="Lanczos steps per density run")
    p.add_argument("--density-runs", type=_positive, default=10, help="random starts of the density")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--x64", action="store_true",
                   help="compute in float64 (jax.enable_x64) at the model's weights cast exactly to float64")
    p.add_argument("--scale", type=float, default=None, metavar="S",
                   help="with --model compiled: compile with the constants' scale S >= 1 (eqgat compile --scale)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--out", default=None, help="folder for hessian.json (and the density figure)")
    p.set_defaults(fn=cmd_hessian)

    p = sub.add_parser("connect", help="train a low-loss Bezier curve between two models (Garipov et al. 2018)")
    p.add_argument("--algo", default="bfs", choices=_compiled())
    p.add_argument("--a", default="compiled", help="compiled, init, or a checkpoint path")
    p.add_argument("--b", required=True, help="compiled, init, or a checkpoint path")
    p.add_argument("--bends", type=_positive, default=1)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--points", type=_positive, default=101, help="evenly spaced t where line and curve are evaluated")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None)
    p.set_defaults(fn=cmd_connect)


def add_stability_command(sub) -> None:
    # the training flags are generated from eqgat's TrainConfig (eqgat.cli.flags), so they
    # show its defaults; building them imports eqgat.workflows.training (and so jax)
    from eqgat.cli.flags import add_checkpoint_flags, add_train_flags
    from eqgat.compiler import add_option_flags
    from eqgat.programs import graph_programs

    p = sub.add_parser("stability", help="retrain from the compiled solution with R data orders (table 12)")
    p.add_argument("--algo", required=True, choices=list(graph_programs(sampled=True)))
    p.add_argument("--runs", type=_positive, default=4)
    add_train_flags(p, ("steps",), descriptions={"steps": "training steps per run (the paper: 10,000)"})
    p.add_argument("--hidden-size", type=_positive, default=None,
                   help="compiled at this size, the program's slots first (default: its minimal size; the paper: 128)")
    add_train_flags(p, ("lr", "batch_size", "train_lengths", "test_length"))
    p.add_argument("--noise", type=float, default=0.0, metavar="SIGMA",
                   help="start each run at compiled + SIGMA x a filter-normalised Gaussian direction (key: the run's seed)")
    p.add_argument("--every", type=int, default=0, help="φ_internal every N steps (default steps/5)")
    p.add_argument("--parallel", type=_positive, default=4, help="runs vmapped in one program")
    add_option_flags(p, names=("scale", "mechanism", "nodes"))
    p.add_argument("--workers", type=int, default=0, help="processes drawing the training batches (0: this one)")
    add_train_flags(p, ("seed",), descriptions={"seed": "first run's seed (data order and noise key)"})
    p.add_argument("--out", default=None)
    add_checkpoint_flags(p)
    p.set_defaults(fn=cmd_stability)


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def cmd_stability(args) -> int:
    from eqgat.cli.flags import train_from_flags
    from eqgat.workflows.stability import StabilityConfig, run
    from eqgat.workflows.training import TrainingInterrupted

    cfg = StabilityConfig(train_from_flags(args, algo=args.algo), runs=args.runs, noise=args.noise, every=args.every,
                          scale=args.scale, hidden_size=args.hidden_size, mechanism=args.mechanism, nodes=args.nodes)
    out = Path(args.out or f"out/stability-{args.algo}")
    try:
        s = run(cfg, out, parallel=args.parallel, workers=args.workers, checkpoint_every=args.checkpoint_every,
                checkpoint_minutes=args.checkpoint_minutes)
    except TrainingInterrupted as stop:  # SIGINT/SIGTERM: the group's state is saved
        print(f"stopped: {stop}", file=sys.stderr)
        return 128 + stop.signum
    print(f"{args.algo}: compiled -> trained {args.steps} steps, {s['n']} runs: test {s['test_mean']:.2f} ± "
          f"{s['test_std']:.2f} (max {s['test_max']:.2f}), mean relative distance travelled {s['relative_distance_mean']:.3g}")
    print(f"results: {out / 'stability.json'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m landscape", description="filter-normalised loss landscapes")
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's and absl's start-up logging")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("plot", help="evaluate and plot the surface around one model")
    p.add_argument("--algo", default="bfs", choices=_compiled())
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
    p.add_argument("--devices", type=_positive, default=None,
                   help="local devices each chunk is spread over (default: all that divide --chunk)")
    g = p.add_argument_group("several processes (jax.distributed): each evaluates its share of the grid")
    g.add_argument("--coordinator", metavar="HOST:PORT")
    g.add_argument("--num-processes", type=_positive, default=None)
    g.add_argument("--process-id", type=int, default=None)
    p.set_defaults(fn=cmd_plot)

    p = sub.add_parser("compare", help="compiled vs learned surfaces, and the plane through compiled/learned/init")
    p.add_argument("--algo", default="bfs", choices=_compiled())
    p.add_argument("--learned", help="checkpoint of a learned model with the compiled architecture")
    p.add_argument("--steps", type=int, default=500, help="training steps when no --learned is given")
    p.add_argument("--lr", type=float, default=1e-3, help="their learning rate (above TrainConfig's 1e-4: a short run "
                                                          "from the compiled start)")
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
    add_curvature_commands(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `python -m landscape` alone: the default plot
        args = parser.parse_args(["plot"] + (argv or []))
    from ._surface import OutputExists

    if not args.verbose:
        from eqgat.workflows.interop import quiet_clrs

        quiet_clrs()
    try:
        return args.fn(args)
    # bad input, or an output that exists (never silently reused): say what, no traceback
    except (ValueError, FileNotFoundError, OutputExists) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
