"""argparse value types shared by every command line (eqgat's, landscape's) and by the
flag generators of the settings dataclasses: each refuses bad text with a message naming
what was expected."""

import argparse


def ints(text: str) -> list[int]:
    """Comma-separated integers."""
    try:
        return [int(x) for x in text.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")


def positive(text: str) -> int:
    """A positive integer."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {v}")
    return v


def natural(text: str) -> int:
    """A non-negative integer."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {v}")
    return v


def seed(text: str) -> int:
    """Any integer seed in [0, 2**63 - 1]."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}")
    if not 0 <= v <= 2**63 - 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 2**63 - 1], got {v}")
    return v


def scale(text: str) -> float:
    """A constants scale S >= 1."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    if not (v >= 1 and v < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 1 (a multiple of the smallest constants), got {text}")
    return v
