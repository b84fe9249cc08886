"""``CompileOptions``: every setting of a compilation, spelled once and validated once.

Each backend (graph programs, depth-first programs) declares which options it takes;
``CompileOptions.check_for`` refuses the others with one message naming each.
"""

import argparse
import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ._constants import DEFAULT_MAX_NODES
from ._layout import MECHANISMS

#: Each option's flag and help (the command-line flags of compile, verify, show are
#: generated from these: ``add_option_flags``).
_FLAGS = {
    "max_nodes": ("--max-nodes", "largest graph the tie-breaks are sized for (default 128; the general mechanism "
                                 "only)"),
    "scale": ("--scale", "selection and decoder constants = S (>= 1) x the smallest the bounds allow for --max-nodes "
                         "(default: the largest logit scale, c = 1e6; the paper's mechanism: S = 1)"),
    "mechanism": ("--mechanism", "general: state kept by ReLU gates, any size up to --max-nodes; paper: a node with "
                                 "nothing to update attends to itself through B = k·I (appendix B), graphs of exactly "
                                 "--nodes N"),
    "nodes": ("--nodes", "graph size of --mechanism paper"),
    "x64": ("--x64", "float64 weights and float64's finer constants (runs under jax_enable_x64)"),
}


def graph_size(mechanism: str, nodes: int | None, max_nodes: int | None) -> int:
    """The graph size constants are derived for: ``nodes`` for the paper's mechanism
    (B is nodes × nodes, so the model runs at that size only), else ``max_nodes``
    (default ``DEFAULT_MAX_NODES``). Each mechanism refuses the other's size flag."""
    if mechanism == "paper":
        if nodes is None:
            raise ValueError("the paper's mechanism needs --nodes N: its pre-attention bias B is N x N, so the "
                             "model runs on graphs of exactly N nodes")
        if max_nodes is not None:
            raise ValueError("--max-nodes sizes the general mechanism's tie-breaks; the paper's mechanism runs on "
                             "graphs of exactly --nodes N (drop --max-nodes)")
        if not isinstance(nodes, int) or nodes < 1:
            raise ValueError(f"--nodes must be a positive integer, got {nodes!r}")
        return nodes
    if nodes is not None:
        raise ValueError("--nodes fixes the graph size of the paper's mechanism (--mechanism paper); the general "
                         "mechanism runs at every size up to --max-nodes")
    if max_nodes is None:
        return DEFAULT_MAX_NODES
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"--max-nodes must be a positive integer, got {max_nodes!r}")
    return max_nodes


@dataclass(frozen=True)
class CompileOptions:
    """How a program is compiled.

    **Arguments:**

    - `max_nodes`: the largest graph the tie-breaks are sized for (None: 128); the
      general mechanism only.
    - `scale`: the selection and decoder constants as S >= 1 times the smallest the
      bounds allow (None: the default constants).
    - `mechanism`: ``"general"`` (state kept by ReLU gates, any size up to
      ``max_nodes``) or ``"paper"`` (self-default through B = k·I; graphs of exactly
      ``nodes`` nodes).
    - `nodes`: the graph size of the paper's mechanism.
    - `x64`: float64 weights and constants (needs ``jax_enable_x64``).

    Every problem is a ``ValueError`` naming the option, raised when the options are made.
    """

    max_nodes: int | None = None
    scale: int | float | None = None
    mechanism: str = "general"
    nodes: int | None = None
    x64: bool = False

    def __post_init__(self):
        if self.mechanism not in MECHANISMS:
            raise ValueError(f"unknown mechanism {self.mechanism!r}; use one of {', '.join(MECHANISMS)}")
        if self.scale is not None and not (isinstance(self.scale, (int, float)) and math.isfinite(self.scale)
                                           and self.scale >= 1):
            raise ValueError(f"scale must be a finite number >= 1 (a multiple of the smallest constants), "
                             f"got {self.scale!r}")
        if not isinstance(self.x64, bool):
            raise ValueError(f"x64 must be True or False, got {self.x64!r}")
        self.graph_size  # the size options' checks

    @property
    def graph_size(self) -> int:
        """The graph size constants are derived for: ``nodes`` for the paper's mechanism,
        else ``max_nodes`` (default 128)."""
        return graph_size(self.mechanism, self.nodes, self.max_nodes)

    def given(self) -> dict[str, Any]:
        """The options that differ from their defaults."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != f.default}

    def check_for(self, what: str, accepts: frozenset[str]) -> None:
        """A ``ValueError`` naming every given option that ``what`` (a backend) does not
        take."""
        if refused := [k for k in self.given() if k not in accepts]:
            flags = ", ".join(_FLAGS[k][0].lstrip("-").replace("-", "_") for k in refused)
            raise ValueError(f"{what} does not take {flags}: drop {'it' if len(refused) == 1 else 'them'} "
                             f"(it takes {', '.join(sorted(accepts)) or 'no options'})")

    @classmethod
    def of(cls, options: "CompileOptions | None" = None, **keywords: Any) -> "CompileOptions":
        """``options``, or the ``CompileOptions`` its fields given as keywords make (the
        loose-keyword form of ``compile_program`` and ``verify_algorithm``); giving both
        is an error naming the keywords."""
        given = sorted(k for k, v in keywords.items() if v != cls.__dataclass_fields__[k].default)
        if options is not None and given:
            raise ValueError(f"give either options=CompileOptions(...) or the keywords {given}, not both")
        return options if options is not None else cls(**keywords)

    def replace(self, **changes: Any) -> "CompileOptions":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def add_option_flags(parser: argparse.ArgumentParser, *, x64: bool = False,
                     names: tuple[str, ...] | None = None) -> None:
    """Add one flag per ``CompileOptions`` field to ``parser`` (``--x64`` only when
    ``x64``; only the fields ``names`` when given), defaults as the dataclass's;
    ``options_from_flags`` reads them back."""
    from .._argtypes import positive, scale

    g = parser.add_argument_group("compilation (CompileOptions)")
    for name, (flag, help_) in _FLAGS.items():
        if names is not None and name not in names:
            continue
        default = CompileOptions.__dataclass_fields__[name].default
        if name in ("max_nodes", "nodes"):
            g.add_argument(flag, type=positive, default=default, metavar="N", help=help_)
        elif name == "scale":
            g.add_argument(flag, type=scale, default=default, metavar="S", help=help_)
        elif name == "mechanism":
            g.add_argument(flag, choices=list(MECHANISMS), default=default, help=help_)
        elif x64:
            g.add_argument(flag, action="store_true", help=help_)


def options_from_flags(args: argparse.Namespace) -> CompileOptions:
    """The ``CompileOptions`` of parsed flags (``add_option_flags``)."""
    return CompileOptions(**{name: getattr(args, name) for name in _FLAGS if hasattr(args, name)})
