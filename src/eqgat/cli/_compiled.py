"""The compiler's commands: ``demo``, ``compile``, ``verify``, ``certify`` and ``show``."""

import os
import time
from pathlib import Path

from .._argtypes import ints as _ints
from .._argtypes import positive as _positive
from .._argtypes import seed as _seed
from .flags import algo_choices as _choices


def add_compiled_commands(sub) -> None:
    """Add ``demo``, ``compile``, ``verify``, ``certify`` and ``show`` to ``sub``."""
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
    print("1/3 compiling BFS into a hidden-size-4 GATv2 and verifying it against dm-clrs' traces (eqgat's samplers, draw for draw) ...")
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
