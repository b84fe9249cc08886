"""The learner's commands: ``train``, ``evaluate`` and ``faithfulness``."""

import time
from pathlib import Path

from .._argtypes import natural as _natural
from .._argtypes import positive as _positive
from .flags import algo_choices as _choices


def add_train_commands(sub) -> None:
    from ..nn import add_flags
    from .flags import add_checkpoint_flags, add_train_flags

    p = sub.add_parser("train", help="train at the paper's table 4 settings (many seeds at once)")
    p.add_argument("--algo", required=True, choices=_choices(sampled=True))
    add_train_flags(p.add_argument_group("training (TrainConfig)"))
    add_flags(p)
    p.add_argument("--trajectory-every", type=int, default=0,
                   help="save the parameters every N steps in trajectory.npz (for `landscape trajectory`)")
    p.add_argument("--out", default=None, help="output folder (default runs/<algo>-<time>)")
    add_checkpoint_flags(p)
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last saved state (the same settings, or it is refused)")
    p.add_argument("--devices", type=_positive, default=None,
                   help="local devices the seed axis is spread over (default: all that divide --seeds)")
    p.add_argument("--workers", type=_natural, default=0,
                   help="processes drawing the training batches ahead of the steps (0: this one; the same batches)")
    g = p.add_argument_group("several processes (jax.distributed; or JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, "
                             "JAX_PROCESS_ID)")
    g.add_argument("--coordinator", metavar="HOST:PORT", help="process 0's address; every process names the same")
    g.add_argument("--num-processes", type=_positive, default=None)
    g.add_argument("--process-id", type=int, default=None)
    p.set_defaults(fn=_cmd_train)

    p = sub.add_parser("evaluate", help="reload a checkpoint and score it")
    p.add_argument("--checkpoint", required=True, nargs="+")
    p.add_argument("--length", type=_positive, default=64)
    p.set_defaults(fn=_cmd_evaluate)


def _cmd_train(args) -> int:
    import numpy as np

    from ..nn import from_flags, given_flags
    from .flags import train_from_flags
    from ..workflows.training import eval_split, init_architecture, resolve_init, train

    if args.init and not given_flags(args):
        model = None  # the checkpoint's own architecture
    else:
        base = init_architecture(args.init) if args.init else None
        model = from_flags(args.algo, args, nb_nodes=args.train_lengths[0], defaults=base)
    cfg = resolve_init(train_from_flags(args, algo=args.algo, model=model))
    import jax

    from landscape.devices import initialize_processes

    processes = initialize_processes(args.coordinator, args.num_processes, args.process_id)
    first = jax.process_index() == 0
    if processes > 1 and not args.out:
        raise ValueError("a run of several processes needs --out (the same folder for all; process 0 writes it)")
    out = Path(args.out or f"runs/{args.algo}-{time.strftime('%Y%m%d-%H%M%S')}")
    if first and not args.resume and out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} exists and is not empty; choose another --out (or --resume the run in it)")
    res = train(cfg, out=out, trajectory_every=args.trajectory_every, devices=args.devices, workers=args.workers,
                resume=args.resume, checkpoint_every=args.checkpoint_every,
                checkpoint_minutes=args.checkpoint_minutes)
    if not first:
        return 0
    print(f"trained {len(res.seeds)} seed(s) in {res.seconds:.0f} s ({res.compiles} graph sizes compiled; "
          f"{res.data_wait_fraction:.0%} of it waiting for training data)")
    if any(res.skipped):
        print(f"  skipped (non-finite update, not applied): {dict(zip(res.seeds, res.skipped))} steps per seed")
    for k, s in enumerate(res.seeds):
        test = "" if res.test_scores is None else f" test {100 * res.test_scores[k]:.2f}%"
        print(f"  seed {s}: final loss {res.losses[-1, k]:.4f}{test}" if len(res.losses) else f"  seed {s}:{test}")
    if res.test_scores:
        t = 100 * np.array(res.test_scores)
        print(f"test ({eval_split(cfg, 'test')}): {t.mean():.2f}% ± {t.std():.2f}% (max {t.max():.2f}%)")
    print(f"checkpoints and results in {out}/")
    return 0


def _cmd_evaluate(args) -> int:
    from ..workflows.training import evaluate_checkpoint

    for path in args.checkpoint:
        r = evaluate_checkpoint(path, args.length)
        print(f"{path}: {r['algorithm']} ({r['source']}) n={r['length']}: score {100 * r['score']:.2f}%")
    return 0


def add_faithfulness_command(sub) -> None:
    p = sub.add_parser("faithfulness", help="φ_external and φ_internal of trained seeds vs the compiled model")
    p.add_argument("--checkpoints", help="folder of seed*.eqx (a train run)")
    p.add_argument("--algo", choices=_choices(sampled=True, compiled=True),
                   help="dfs_light: against the compiled full-attention model (train with --nb-heads 4 "
                        "--full-attention so that the heads compare)")
    p.add_argument("--out", required=True)
    p.add_argument("--replot", action="store_true", help="redraw the figures in --out from its saved results")
    p.add_argument("--split", choices=["train", "val", "test", "sampler"], default="test",
                   help="CLRS-30 split (default test, n = 64), or 'sampler': fresh p = 0.5 graphs")
    p.add_argument("--length", type=_positive, default=None, help="graph size (default: the split's own; sampler 16)")
    p.add_argument("--bins", type=_positive, default=16, help="normalised-time bins")
    p.add_argument("--samples", type=_positive, default=32, help="graphs for --split sampler")
    p.add_argument("--seed", type=int, default=0, help="seed of the --split sampler graphs")
    p.add_argument("--reference", choices=["general", "paper"], default="general",
                   help="α* of the general compiled mechanism, or of the paper's (self-default through B = k·I, "
                        "compiled at the graphs' size)")
    p.set_defaults(fn=_cmd_faithfulness)


def _cmd_faithfulness(args) -> int:
    from ..workflows.faithfulness import replot, run

    if args.replot:
        for p in replot(Path(args.out)):
            print(p)
        return 0
    if not args.checkpoints or not args.algo:
        raise SystemExit("error: --checkpoints and --algo are required (or --replot)")
    s = run(Path(args.checkpoints), args.algo, Path(args.out), split=args.split, length=args.length,
            samples=args.samples, seed=args.seed, bins=args.bins, reference=args.reference)
    print(f"φ_internal against the {args.reference} mechanism's attention "
          f"({'self-default through B = k·I' if args.reference == 'paper' else 'state kept by ReLU gates'})")
    for r in s["seeds"]:
        print(f"{r['checkpoint']}: test {r['test_score']}, φ_external {r['external_mean']:.3f}, φ_internal {r['internal_mean']:.3f}")
    for k in ("corr_external_vs_test", "corr_internal_vs_test"):
        if k in s:
            c = s[k]
            print(f"{k}: r = {c['r']:.3f}, 95% CI [{c['ci95'][0]:.3f}, {c['ci95'][1]:.3f}] (n = {c['n']})")
    print(f"results and figures in {args.out}/")
    return 0
