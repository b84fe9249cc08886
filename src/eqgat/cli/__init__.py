"""Command-line interface (argparse sub-commands): the top layer, on the library (which
never imports it)."""

import argparse
import os
import sys
import time
from pathlib import Path

from .._argtypes import ints as _ints
from .._argtypes import natural as _natural
from .._argtypes import positive as _positive
from .._argtypes import seed as _seed


def _choices(**kw) -> list[str]:
    """The registered algorithms' names (``eqgat.algorithms``), for ``--algo``."""
    from ..algorithms import names

    return names(**kw)


def cmd_compile(args) -> int:
    import equinox as eqx
    import jax

    from ..nn import save
    from ..algorithms import get_algorithm
    from ..compiler import compile_artifact, options_from_flags

    art = compile_artifact(get_algorithm(args.algo).program, args.hidden_size, options_from_flags(args))
    path = save(args.out, art.model, source="compiled", program=args.algo, **art.info)
    leaves = jax.tree.leaves(eqx.filter(art.model, eqx.is_inexact_array))
    biggest = max(float(jax.numpy.max(jax.numpy.abs(x))) for x in leaves)
    print(f"compiled {args.algo} at hidden size {art.model.hidden_size} ({sum(x.size for x in leaves)} parameters), "
          f"{art.summary.splitlines()[0]} -> {path} (+ {path.name}.json)")
    print("; ".join(art.summary.splitlines()[1:] + [f"max |θ| = {biggest:.4g}"]))
    return 0


def cmd_verify(args) -> int:
    from ..workflows.verification import main as verify_main

    if not args.algo and not args.checkpoint:
        raise ValueError("give --algo (compile and verify a program) or --checkpoint PATH (a saved model)")
    return verify_main(args)


def cmd_certify(args) -> int:
    """``python -m eqgat certify``: prove a compiled model exact by local configurations."""
    import json

    from ..algorithms import get_algorithm
    from ..compiler import compile_artifact, options_from_flags
    from ..workflows.certify import certify

    options = options_from_flags(args)
    if args.checkpoint:
        from ..nn import read_meta
        from ..workflows.show import compiled_checkpoint

        if {k for k in options.given() if k != "max_nodes"} or args.hidden_size is not None:
            raise ValueError("--hidden-size, --scale, --mechanism and --nodes compile a program; a --checkpoint is "
                             "taken as it is (--max-nodes N: the largest graph certified)")
        model, layout = compiled_checkpoint(args.checkpoint)
        max_nodes = args.max_nodes or read_meta(args.checkpoint).get("info", {}).get("max_nodes") or 128
    else:
        art = compile_artifact(get_algorithm(args.algo).program, args.hidden_size, options)
        model, layout = art.model, art.layout
        max_nodes = options.graph_size
    cert = certify(model, max_nodes=int(max_nodes), layout=layout, counterexample=not args.no_search,
                   search_seconds=args.search_seconds)
    if args.counterexample and cert.counterexample is not None:
        from ..workflows.certify import write_graph

        write_graph(args.counterexample, cert.counterexample)
    if args.json:
        print(json.dumps(cert.to_json(), indent=2, default=str))
    else:
        print(cert)
        if args.counterexample and cert.counterexample is not None:
            print(f"counterexample written to {args.counterexample} (rerun: python -m eqgat verify --checkpoint "
                  f"PATH --graph {args.counterexample})")
    return 0 if cert.certified else 1


def cmd_show(args) -> int:
    from ..compiler import options_from_flags
    from ..workflows.show import draw

    options = options_from_flags(args)
    if args.checkpoint and options.given():
        raise ValueError("--scale, --max-nodes, --mechanism and --nodes compile a program; a --checkpoint was "
                         "compiled with its own")
    for p in draw(args.algo, args.hidden_size, args.out, checkpoint=args.checkpoint, options=options):
        print(f"wrote {p}")
    return 0


def cmd_demo(args) -> int:
    """The README's main job: compile BFS, verify it exactly, draw its landscape."""
    from ..workflows.verification import format_table, verify_algorithm

    t0 = time.time()
    print("1/3 compiling BFS into a hidden-size-4 GATv2 and verifying it against dm-clrs ...")
    report = verify_algorithm("bfs", 4, [16, 64], samples=32, seed=0)
    print(format_table(report))
    exact = report.exact
    print("BFS compiled model is EXACT" if exact else "BFS compiled model is NOT exact")
    print("2/3 drawing its weights ...")
    from ..workflows.show import draw

    for p in draw("bfs", 4, os.path.join(args.out, "bfs-weights.png")):
        print(f"   wrote {p}")
    print("3/3 its loss landscape ...")
    from ..workflows.landscapes import plot_around

    npz, png = plot_around("compiled", "bfs", Path(args.out) / "bfs-landscape.png", grid=(11, 11),
                           span=("general", (-1.0, 1.0)), force=True)
    print(f"   wrote {png} (surface {npz})")
    print(f"done in {time.time() - t0:.0f} s")
    return 0 if exact else 1


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


def add_reproduce_command(sub) -> None:
    p = sub.add_parser("reproduce", help="a table or figure of the paper, with eqgat's numbers beside the paper's")
    p.add_argument("names", nargs="*", metavar="NAME", help="entries (table2, table5, figure1, ...; 'all': every one)")
    p.add_argument("--list", action="store_true", help="list the entries, their experiments and the paper's numbers")
    p.add_argument("--profile", choices=["smoke", "cpu", "paper"], default="cpu",
                   help="smoke: seconds (CI); cpu: ~1-2 h per entry on 2 cores; paper: the paper's settings")
    p.add_argument("--out", default=None, help="output folder (default out/reproduce/<profile>); runs are shared "
                                               "between entries and resumed per seed")
    p.add_argument("--devices", type=_positive, default=None, help="local devices the seed axis is spread over")
    p.add_argument("--workers", type=_natural, default=0,
                   help="processes drawing the training batches ahead of the steps (0: this one; the same batches)")
    p.add_argument("--seeds", type=_positive, default=None,
                   help="train only the profile's first N seeds per row (resumable: a later run adds the rest)")
    p.add_argument("--parallel", type=_positive, default=None,
                   help="seeds trained at once in one vmapped program (default: the profile's; results do not change)")
    p.add_argument("--report-only", action="store_true",
                   help="train nothing: write NAME.md / NAME.json from the seeds already finished in --out")
    from .flags import add_checkpoint_flags

    add_checkpoint_flags(p)
    p.set_defaults(fn=_cmd_reproduce)


def _cmd_reproduce(args) -> int:
    from ..workflows.reproduce import ENTRIES, default_out, get_entry, listing, reproduce

    if args.list:
        print(listing())
        return 0
    if not args.names:
        raise ValueError("name an entry (or 'all'); `reproduce --list` lists them")
    names = list(ENTRIES) if args.names == ["all"] else args.names
    for name in names:
        get_entry(name)  # every name checked before anything runs
    for name in names:
        res = reproduce(name, args.profile, args.out, devices=args.devices, workers=args.workers, seeds=args.seeds,
                        parallel=args.parallel, report_only=args.report_only, checkpoint_every=args.checkpoint_every,
                        checkpoint_minutes=args.checkpoint_minutes)
        print(res["title"])
        for r in res["rows"]:
            e = r["eqgat"]
            flag = "" if r["differs"] is None else ("  (differs)" if r["differs"] else "")
            ran = f"  [{e['n']} seeds, {'/'.join(map(str, e['steps']))} steps, {e['seconds']:.0f} s]" if e else ""
            print(f"  {r['label']}: eqgat {r['eqgat_text']}  paper {r['paper_text']}{ran}{flag}")
        if res["figure"]:
            for n in res["figure"]["numbers"]:
                print(f"  {n['label']}: {n['value']}")
    out = args.out or default_out(args.profile)
    print(f"results in {out}/ (NAME.md, NAME.json; runs/ holds every seed)")
    return 0


def add_locality_command(sub) -> None:
    p = sub.add_parser("locality", help="hints that no one-GATv2-step-per-hint model can decide (eqgat.workflows.locality)")
    p.add_argument("--algo", required=True, choices=_choices(sampled=True))
    p.add_argument("--max-nodes", type=_positive, default=3,
                   help="every directed graph up to this size (4: 4,096 graphs, minutes for mask_one hints)")
    p.add_argument("--random", type=_natural, default=0, help="random graphs per size of --random-nodes, too")
    p.add_argument("--random-nodes", type=_ints, default=[5, 6, 8])
    p.add_argument("--seed", type=_natural, default=0, help="seed of the random graphs")
    p.add_argument("--hops", type=_positive, default=None,
                   help="message-passing steps per hint (default: unbounded, the node's whole component)")
    p.add_argument("--full", action="store_true",
                   help="attention over all nodes (dm-clrs' gatv2_full), not only graph and pointer edges; needs --hops")
    p.set_defaults(fn=_cmd_locality)


def _cmd_locality(args) -> int:
    """Per hint probe: an obstruction (two instances; exit 1) or none among the graphs searched."""
    from ..workflows import locality
    from ..probes import Location, Stage, Type
    from ..algorithms import get_spec

    def graphs():
        return locality.search_graphs(args.algo, args.max_nodes, args.random, args.random_nodes, args.seed)

    count = sum(1 for _ in graphs())
    found = False
    for p in get_spec(args.algo):
        if p.stage != Stage.HINT or p.location != Location.NODE:
            continue
        gs = graphs()
        if p.type in (Type.MASK_ONE, Type.POINTER):
            cycle = locality.choice_cycle(args.algo, gs, p.name, hops=args.hops, full=args.full)
            if cycle:
                found = True
                print(f"{p.name} ({p.type.name.lower()}): a cycle of {len(cycle)} 'must outscore' links, "
                      "so no model decides it:")
                for win, lose in cycle:
                    print(f"    the target ({win}) must outscore ({lose})")
                continue
        else:
            hit = next(locality.node_conflicts(args.algo, gs, p.name, hops=args.hops, full=args.full), None)
            if hit:
                found = True
                a, b, va, vb = hit
                print(f"{p.name}: node {a.node} sees the same at hint {a.t} of ({a}) and hint {b.t} of ({b}), "
                      f"but must predict {va} there and {vb} here")
                continue
        print(f"{p.name}: no obstruction among {count} graphs"
              + ("" if args.hops is None else f" ({args.hops} message-passing step(s) per hint"
                                              f"{', attention over all nodes' if args.full else ''})"))
    return 1 if found else 0


def add_import_command(sub) -> None:
    from ..nn import add_flags

    p = sub.add_parser("import-clrs", help="convert a dm-clrs / fork save_model pickle into an eqgat checkpoint")
    p.add_argument("path", help="the pickle BaselineModel.save_model wrote (dm-clrs 2.0.3 or the paper's fork)")
    p.add_argument("--algo", required=True, choices=_choices(sampled=True))
    add_flags(p)
    p.add_argument("--nb-nodes", type=_positive, default=None, help="n of the pre-attention bias B (with --use-pre-att-bias)")
    p.add_argument("--out", required=True, help="the eqgat checkpoint to write")
    p.set_defaults(fn=_cmd_import)


def _cmd_import(args) -> int:
    from ..nn import save
    from ..nn import from_flags
    from ..workflows.interop import load_clrs_checkpoint

    if args.hidden_size is None:
        raise ValueError("give --hidden-size: a save_model pickle does not store the architecture")
    config = from_flags(args.algo, args, nb_nodes=args.nb_nodes)
    model = load_clrs_checkpoint(args.path, config=config)
    path = save(args.out, model, source="imported", pickle=str(args.path))
    print(f"imported {args.path} ({config.algorithm}, hidden {config.hidden_size}, {config.nb_heads} head(s), "
          f"edge info {config.use_edge_info}, pre-attention bias {config.use_pre_att_bias}) -> {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eqgat", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's and absl's start-up logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="compile BFS, verify it exactly, draw weights and landscape")
    p.add_argument("--out", default="out/demo")
    p.set_defaults(fn=cmd_demo)

    from ..compiler import add_option_flags

    p = sub.add_parser("compile", help="compile a registered algorithm's program into a checkpoint")
    p.add_argument("--algo", required=True, choices=_choices(compiled=True),
                   help="dfs_light: the full-attention DFS (the depth-first backend)")
    p.add_argument("--hidden-size", type=_positive, default=None, help="default: the program's minimal size")
    add_option_flags(p)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_compile)

    p = sub.add_parser("verify", help="compare a compiled model with its reference trace (dm-clrs' for its algorithms)")
    p.add_argument("--algo", choices=_choices(sampled=True, compiled=True),
                   help="compile this program and verify it (dfs_light: the fork's DFS, compiled for full attention, "
                        "the depth-first backend)")
    p.add_argument("--checkpoint", help="verify a saved model instead (its compile options from its JSON)")
    p.add_argument("--graph", help="run on this one graph file only (what certify --counterexample writes: weights "
                                   "or adjacency, and source), strictly: every hint step and output must match")
    p.add_argument("--hidden-size", type=_positive, default=None, help="default: the program's minimal size")
    p.add_argument("--graphs", choices=["sampler", "families", "exhaustive"], default="sampler",
                   help="dm-clrs' sampler, graph families (ties, degenerate shapes), or every graph up to 5 nodes "
                        "(directed algorithms: every directed graph up to 4 nodes; --lengths N: up to N)")
    p.add_argument("--lengths", type=_ints, default=None, help="default 16,64,128 (the paper's mechanism: --nodes)")
    p.add_argument("--samples", type=_positive, default=64)
    p.add_argument("--seed", type=_seed, default=0, help="any integer in [0, 2**63 - 1]")
    add_option_flags(p, x64=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_verify)

    p = sub.add_parser("certify", help="prove a compiled graph program exact on every graph of up to --max-nodes "
                                       "nodes, by local configurations (exit 0: CERTIFIED, 1: NOT CERTIFIED)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--algo", choices=_choices(compiled=True), help="compile this program (with the flags below) "
                      "and certify it; --max-nodes is also the compile's")
    what.add_argument("--checkpoint", help="certify a compiled checkpoint as it is (its layout is in its JSON)")
    p.add_argument("--hidden-size", type=_positive, default=None, help="default: the program's minimal size")
    add_option_flags(p)
    p.add_argument("--json", action="store_true", help="print the certificate as JSON")
    p.add_argument("--counterexample", metavar="FILE", help="when refused, write the counterexample graph here (JSON: "
                                                            "adjacency, weights, source)")
    p.add_argument("--no-search", action="store_true", help="when refused, do not search for a counterexample graph")
    p.add_argument("--search-seconds", type=float, default=90.0, help="time the counterexample search may take")
    p.set_defaults(fn=cmd_certify)

    p = sub.add_parser("show", help="draw compiled weights as labelled heatmaps")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--algo", choices=_choices(compiled=True),
                      help="compile this program and draw it (dfs_light: the full-attention DFS)")
    what.add_argument("--checkpoint", help="draw a checkpoint written by `compile` (its layout is in its JSON)")
    p.add_argument("--hidden-size", type=_positive, default=None, help="default: the program's minimal size")
    add_option_flags(p)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_show)

    add_train_commands(sub)
    add_faithfulness_command(sub)
    add_import_command(sub)
    add_reproduce_command(sub)
    add_locality_command(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not args.verbose:
        from .._quiet import quiet_clrs

        quiet_clrs()
    from ..workflows.training import TrainingInterrupted

    try:
        return args.fn(args)
    except (ValueError, FileNotFoundError) as err:  # bad input (a graph, a file, a name): say what, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    except TrainingInterrupted as stop:  # SIGINT/SIGTERM: the state is saved; say how to go on
        print(f"stopped: {stop}", file=sys.stderr)
        return 128 + stop.signum
