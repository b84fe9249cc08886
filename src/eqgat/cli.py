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
    v = int(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {v}")
    return v


def cmd_compile(args) -> int:
    from . import programs
    from ._checkpoint import save
    from ._compiler import compile_program

    model = compile_program(programs.PROGRAMS[args.algo], args.hidden_size)
    path = save(args.out, model, source="compiled", program=args.algo)
    n = sum(x.size for x in __import__("jax").tree.leaves(__import__("equinox").filter(model, __import__("equinox").is_inexact_array)))
    print(f"compiled {args.algo} at hidden size {args.hidden_size} ({n} parameters) -> {path} (+ {path.name}.json)")
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
    rows = verify("bfs", 4, [16, 64], samples=32, seed=0)
    print(format_table(rows))
    exact = all(r.correct == r.total for r in rows)
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
    p.add_argument("--hidden-size", type=_positive, default=4)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_compile)

    p = sub.add_parser("verify", help="compare a compiled model with dm-clrs' ground truth")
    p.add_argument("--algo", required=True, choices=["bfs", "bellman_ford"])
    p.add_argument("--hidden-size", type=_positive, default=4)
    p.add_argument("--lengths", type=_ints, default=[16, 64, 128])
    p.add_argument("--samples", type=_positive, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--x64", action="store_true", help="run in float64 (jax_enable_x64)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_verify)

    p = sub.add_parser("show", help="draw compiled weights as labelled heatmaps")
    p.add_argument("--algo", required=True, choices=["bfs", "bellman_ford", "labelprop"])
    p.add_argument("--hidden-size", type=_positive, default=4)
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
