"""Command-line interface (argparse sub-commands): the top layer, on the library (which
never imports it)."""

import argparse
import sys

from ._compiled import add_compiled_commands
from ._experiments import add_import_command, add_locality_command, add_reproduce_command
from ._training import add_faithfulness_command, add_train_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eqgat", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's and absl's start-up logging")
    sub = parser.add_subparsers(dest="command", required=True)

    add_compiled_commands(sub)
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
