"""The training flags generated from ``TrainConfig``.

As ``eqgat.nn._config`` generates the architecture flags from ``ModelConfig``, the training
flags (``--steps``, ``--lr``, ``--batch-size``, ...) are generated here from
``TrainConfig``'s fields: their defaults and help are the fields' own, so every command
that trains (``python -m eqgat train``, ``python -m landscape stability``) shows the same
defaults. This module imports only ``argparse``; ``eqgat.workflows.training`` (and so jax) is imported
when the flags are added.
"""

import argparse
import dataclasses
from typing import Any

from .._argtypes import ints, natural, positive, seed  # noqa: F401  (the value types, re-exported)


#: ``TrainConfig`` field -> (flag, value type, metavar). A bool field's flag turns it off
#: (``--no-random-pos``). The flags' destinations are the field names.
TRAIN_FLAGS: dict[str, tuple[str, Any, str | None]] = {
    "steps": ("--steps", int, None),
    "seeds": ("--seeds", positive, None),
    "seed": ("--seed", seed, None),
    "train_lengths": ("--train-lengths", ints, None),
    "batch_size": ("--batch-size", positive, None),
    "lr": ("--lr", float, None),
    "regularization_weight": ("--regularization-weight", float, None),
    "random_pos": ("--no-random-pos", bool, None),
    "val_every": ("--val-every", int, None),
    "val_length": ("--val-length", positive, None),
    "test_length": ("--test-length", positive, None),
    "init": ("--init", str, None),
    "init_noise": ("--init-noise", float, "SIGMA"),
    "select": ("--select", str, None),
    "attention_supervision": ("--attention-supervision", float, "W"),
    "attention_reference": ("--reference", str, None),
    "supervised_heads": ("--supervised-heads", positive, "K"),
}


def algo_choices(**kw) -> list[str]:
    """The registered algorithms' names (``eqgat.algorithms.names``), for ``--algo``."""
    from ..algorithms import names

    return names(**kw)


def shown_default(value: Any) -> str:
    """A default as it is typed on the command line (``4,7,11,13,16``, ``0.0001``)."""
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


def add_train_flags(parser, names: tuple[str, ...] | None = None, *,
                    descriptions: dict[str, str] | None = None) -> None:
    """Add the flags of ``TrainConfig``'s fields ``names`` (default: every one in
    ``TRAIN_FLAGS``) to ``parser`` (a parser or argument group), with the fields'
    defaults and help (``descriptions`` replaces a field's description for this command; the
    default shown is always the field's)."""
    from ..workflows.training import TrainConfig

    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    for name in TRAIN_FLAGS if names is None else names:
        if name not in TRAIN_FLAGS:
            raise ValueError(f"TrainConfig.{name} has no flag; flags: {', '.join(TRAIN_FLAGS)}")
        flag, type_, metavar = TRAIN_FLAGS[name]
        f = fields[name]
        text = (descriptions or {}).get(name, f.metadata["help"]).replace("%", "%%")
        if type_ is bool:
            parser.add_argument(flag, dest=name, action="store_false", default=f.default, help=text)
            continue
        if f.default is not None:
            text = f"{text} (default: {shown_default(f.default)})"
        parser.add_argument(flag, dest=name, type=type_, default=f.default, metavar=metavar, help=text,
                            choices=f.metadata.get("choices"))


def train_from_flags(args: argparse.Namespace, **fields: Any):
    """The ``TrainConfig`` of the parsed flags (every ``TRAIN_FLAGS`` field ``args``
    has), with ``fields`` (e.g. ``algo``, ``model``) given by the command itself. It is
    not resolved: ``eqgat.workflows.training.resolve_init`` reads an ``--init`` checkpoint."""
    from ..workflows.training import TrainConfig

    given = {name: getattr(args, name) for name in TRAIN_FLAGS if hasattr(args, name)}
    return TrainConfig(**{**given, **fields})


def add_checkpoint_flags(parser) -> None:
    """``--checkpoint-every`` and ``--checkpoint-minutes``: how often a run saves its whole
    training state (defaults: ``eqgat.workflows.training.Checkpointing``'s)."""
    from ..workflows.training import Checkpointing

    defaults = {f.name: f.default for f in dataclasses.fields(Checkpointing)}
    parser.add_argument("--checkpoint-every", type=natural, default=defaults["every"], metavar="N",
                        help="save the whole training state (OUT/state/) every N steps (0: never by count; "
                             f"default {defaults['every']})")
    parser.add_argument("--checkpoint-minutes", type=float, default=defaults["minutes"], metavar="M",
                        help="... and after M minutes of wall time since the last save (0: never by time; "
                             f"default {defaults['minutes']:g})")
