"""Command-line interface (argparse sub-commands)."""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {v}")
    return v


def _seed(text: str) -> int:
    """Any integer seed in [0, 2**63 - 1]."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}")
    if not 0 <= v <= 2**63 - 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 2**63 - 1], got {v}")
    return v


def cmd_compile(args) -> int:
    import equinox as eqx
    import jax

    from . import programs
    from ._checkpoint import save
    from ._compiler import compile_program, compile_stages

    program = programs.PROGRAMS[args.algo]
    stages = compile_stages(program, args.hidden_size, max_nodes=args.max_nodes)
    model = compile_program(program, args.hidden_size, max_nodes=args.max_nodes)
    path = save(args.out, model, source="compiled", program=args.algo, max_nodes=args.max_nodes,
                resolution=stages.constants.resolution)
    n = sum(x.size for x in jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array)))
    print(f"compiled {args.algo} at hidden size {model.hidden_size} ({n} parameters), exact on graphs of up to "
          f"{args.max_nodes} nodes (resolution {stages.constants.resolution:.2g}) -> {path} (+ {path.name}.json)")
    return 0


def cmd_verify(args) -> int:
    from .verify import main as verify_main

    return verify_main(args)


def cmd_show(args) -> int:
    from .show import draw

    for p in draw(args.algo, args.hidden_size, args.out):
        print(f"wrote {p}")
    return 0


def cmd_demo(args) -> int:
    """The README's main job: compile BFS, verify it exactly, draw its landscape."""
    from .verify import format_table, verify

    t0 = time.time()
    print("1/3 compiling BFS into a hidden-size-4 GATv2 and verifying it against dm-clrs ...")
    report = verify("bfs", 4, [16, 64], samples=32, seed=0)
    print(format_table(report))
    exact = report.exact
    print("BFS compiled model is EXACT" if exact else "BFS compiled model is NOT exact")
    print("2/3 drawing its weights ...")
    from .show import draw

    for p in draw("bfs", 4, os.path.join(args.out, "bfs-weights.png")):
        print(f"   wrote {p}")
    print("3/3 its loss landscape ...")
    from landscape.cli import plot_default

    plot_default(out=os.path.join(args.out, "bfs-landscape.png"), grid=11)
    print(f"done in {time.time() - t0:.0f} s")
    return 0 if exact else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eqgat", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="compile BFS, verify it exactly, draw weights and landscape")
    p.add_argument("--out", default="out/demo")
    p.set_defaults(fn=cmd_demo)

    p = sub.add_parser("compile", help="compile a graph program into a checkpoint")
    p.add_argument("--algo", required=True, choices=["bfs", "bellman_ford", "labelprop"])
    p.add_argument("--hidden-size", type=_positive, default=None, help="default: the program's minimal size")
    p.add_argument("--max-nodes", type=_positive, default=128, help="largest graph the tie-breaks are sized for")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_compile)

    p = sub.add_parser("verify", help="compare a compiled model with dm-clrs' ground truth")
    p.add_argument("--algo", required=True, choices=["bfs", "bellman_ford"])
    p.add_argument("--hidden-size", type=_positive, default=None, help="default: the program's minimal size")
    p.add_argument("--graphs", choices=["sampler", "families", "exhaustive"], default="sampler",
                   help="dm-clrs' sampler, graph families (ties, degenerate shapes), or every graph up to 5 nodes")
    p.add_argument("--max-nodes", type=_positive, default=128, help="largest graph the tie-breaks are sized for")
    p.add_argument("--lengths", type=_ints, default=[16, 64, 128])
    p.add_argument("--samples", type=_positive, default=64)
    p.add_argument("--seed", type=_seed, default=0, help="any integer in [0, 2**63 - 1]")
    p.add_argument("--x64", action="store_true", help="run in float64 (jax_enable_x64)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_verify)

    p = sub.add_parser("show", help="draw compiled weights as labelled heatmaps")
    p.add_argument("--algo", required=True, choices=["bfs", "bellman_ford", "labelprop"])
    p.add_argument("--hidden-size", type=_positive, default=None, help="default: the program's minimal size")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_show)

    from .faithfulness import add_command as add_faithfulness
    from .train import add_commands

    add_commands(sub)
    add_faithfulness(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (ValueError, FileNotFoundError) as err:  # bad input (a graph, a file, a name): say what, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
