"""``ModelConfig``: every architecture switch of a ``Model``, spelled once.

A model is built from it (``Model(config, key=...)``), returns it (``model.config``),
checkpoints store it, training holds it, and the command-line flags are generated from
its fields (``add_flags`` / ``from_flags``).
"""

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any

from ..algorithms import get_spec


@dataclass(frozen=True)
class ModelConfig:
    """The architecture of a CLRS encode-process-decode GATv2, every switch spelled once:
    ``Model(config, key=...)`` builds it, ``model.config`` returns it, checkpoints store
    it and the command lines' architecture flags are generated from it. Frozen; invalid
    combinations are a ``ValueError`` when it is made; ``replace(**changes)`` gives a
    modified copy.

    **Arguments:**

    - `algorithm`: a registered algorithm's name (its probe spec).
    - `hidden_size`: s (table 4: 128).
    - `nb_heads`: d (must divide s).
    - `use_ln`: layer norm after the processor.
    - `use_edge_info`: W_info (eqs. 11-13).
    - `use_pre_att_bias`: the n×n bias B (eq. 14), which needs and fixes `nb_nodes`.
    - `nb_nodes`: n of B (only with `use_pre_att_bias`).
    - `encode_hints` / `decode_hints`: hints fed back / predicted (feeding back needs
      predicting).
    - `simplify_decoders`: the pointer decoder of table 3 (logit = -c·|p1 - p2|).
    - `full_attention`: attention over all nodes, the adjacency only an edge feature
      (dm-clrs' ``gatv2_full``; what ``dfs_light`` needs, ``eqgat.workflows.locality``).
    """

    algorithm: str
    hidden_size: int = 128
    nb_heads: int = 1
    use_ln: bool = True
    use_edge_info: bool = False
    use_pre_att_bias: bool = False
    nb_nodes: int | None = None
    encode_hints: bool = True
    decode_hints: bool = True
    simplify_decoders: bool = False
    full_attention: bool = False

    def __post_init__(self):
        get_spec(self.algorithm)  # a clear error for an unknown algorithm
        if not isinstance(self.hidden_size, int) or self.hidden_size < 1:
            raise ValueError(f"hidden_size must be a positive integer, got {self.hidden_size!r}")
        if not isinstance(self.nb_heads, int) or self.nb_heads < 1 or self.hidden_size % self.nb_heads:
            raise ValueError(f"nb_heads={self.nb_heads} must divide hidden_size={self.hidden_size}")
        if self.use_pre_att_bias and (not isinstance(self.nb_nodes, int) or self.nb_nodes < 1):
            raise ValueError("use_pre_att_bias needs nb_nodes: B is an n×n matrix")
        if not self.use_pre_att_bias and self.nb_nodes is not None:
            raise ValueError("nb_nodes is only set with use_pre_att_bias (it fixes B's size)")
        if self.encode_hints and not self.decode_hints:
            raise ValueError("encode_hints=True needs decode_hints=True (hints fed back are decoded ones)")

    def replace(self, **changes: Any) -> "ModelConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown model settings {sorted(unknown)}")
        return cls(**d)


#: Flags of the switches (the algorithm is a command's own ``--algo``): field -> (flag, help).
_FLAGS = {
    "hidden_size": ("--hidden-size", "hidden size s"),
    "nb_heads": ("--nb-heads", "attention heads d (must divide the hidden size)"),
    "use_ln": ("--no-ln", "no layer norm after the processor"),
    "use_edge_info": ("--use-edge-info", "edge information W_info (eqs. 11-13)"),
    "use_pre_att_bias": ("--use-pre-att-bias", "pre-attention bias B (eq. 14; fixes the graph size)"),
    "encode_hints": ("--no-hints", "neither encode nor decode hints"),
    "simplify_decoders": ("--simplify-decoders", "the simplified pointer decoder of table 3"),
    "full_attention": ("--full-attention", "attention over all nodes, not only along edges (dm-clrs' gatv2_full)"),
}


def add_flags(parser: argparse.ArgumentParser, defaults: ModelConfig | None = None) -> None:
    """Add one flag per switch of ``ModelConfig`` to ``parser``, all defaulting to None
    ("not given"), so that ``from_flags`` can tell a flag from its default."""
    g = parser.add_argument_group("architecture (ModelConfig)")
    for name, (flag, help_) in _FLAGS.items():
        if name in ("hidden_size", "nb_heads"):
            default = getattr(defaults, name) if defaults else ModelConfig.__dataclass_fields__[name].default
            g.add_argument(flag, type=int, default=None, help=f"{help_} (default {default})")
        else:
            g.add_argument(flag, action="store_true", default=None, help=help_)


def given_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The switches the user set on the command line, as ``ModelConfig`` field values."""
    out = {}
    for name, (flag, _) in _FLAGS.items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is None:
            continue
        if name == "use_ln":
            out["use_ln"] = False
        elif name == "encode_hints":
            out["encode_hints"] = out["decode_hints"] = False
        else:
            out[name] = value
    return out


def from_flags(algorithm: str, args: argparse.Namespace, *, nb_nodes: int | None = None,
               defaults: ModelConfig | None = None) -> ModelConfig:
    """The ``ModelConfig`` the flags describe (``defaults`` for what is not given;
    ``nb_nodes`` for B's size when ``--use-pre-att-bias`` is given)."""
    base = defaults or ModelConfig(algorithm)
    given = given_flags(args)
    if given.get("use_pre_att_bias", base.use_pre_att_bias):
        given["nb_nodes"] = nb_nodes
    return base.replace(algorithm=algorithm, **given)
