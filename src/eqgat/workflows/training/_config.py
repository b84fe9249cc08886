"""``TrainConfig``: every training setting, spelled once (the flags are generated from it),
and ``resolve_init``, which reads an ``--init`` checkpoint's architecture."""

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...algorithms import get_spec
from ...compiler import MECHANISMS
from ...data import MAX_SEED
from ...nn import ModelConfig
from ...nn import read_meta


def _setting(default, help_: str, choices: tuple | None = None):
    """A ``TrainConfig`` field: its default, its help and its allowed values, if listed
    (the command-line flags': ``eqgat.cli.flags.add_train_flags``)."""
    return field(default=default, metadata={"help": help_, "choices": choices})


#: ``TrainConfig.select``'s values: which parameters a run keeps.
SELECT = ("last", "best_val")


@dataclass(frozen=True)
class TrainConfig:
    """Table 4 of the paper, and the flags of its other experiments (every field's help is
    its ``metadata["help"]``, which the command lines show).

    The architecture is ``model`` (a ``ModelConfig``), or when it is None, table 4's
    (``ModelConfig(algo)``: hidden 128 with layer norm) or the ``init`` checkpoint's.
    Constructing a config never reads a file: ``resolve_init`` reads ``init``'s
    architecture (a ``model`` that disagrees with it is an error) and returns the config
    with ``model`` filled in, as every training run does first; ``architecture`` is the
    effective ``ModelConfig``.

    **Arguments:**

    Every field below, by keyword (each has table 4's value, or a switch's off value, as
    its default; ``dataclasses.fields(TrainConfig)`` gives each one's help). A value that
    is out of range, or settings that contradict each other (e.g. ``select="best_val"``
    without validation, the paper's reference at several graph sizes), is a
    ``ValueError`` naming the setting.

    **Returns:**

    A frozen, hashable config; ``dataclasses.asdict`` of it is what every record stores.
    """

    algo: str = _setting("bfs", "the CLRS algorithm")
    # a list is stored as a tuple; a dict model (read back from JSON) as a ModelConfig
    train_lengths: tuple[int, ...] | list[int] = _setting((4, 7, 11, 13, 16),
                                                          "graph sizes trained on, one per step in turn")
    random_pos: bool = _setting(True, "random node ids in training (dm-clrs' random_pos; --no-random-pos: ids i/n)")
    batch_size: int = _setting(32, "graphs per training step")
    steps: int = _setting(10000, "training steps")
    lr: float = _setting(1e-4, "Adam's learning rate")
    grad_clip: float = _setting(1.0, "global-norm gradient clipping (0: none)")
    regularization_weight: float = _setting(0.0, "weight of the L1 regulariser sum |θ| (the author's fork's)")
    seed: int = _setting(0, "first seed (seeds are SEED, SEED+1, ...), up to 2**63 - 1")
    seeds: int = _setting(1, "independent initialisations, trained at once")
    val_every: int = _setting(500, "validate every N steps (0: never)")
    val_length: int | None = _setting(None, "graph size of the validation split (default: CLRS-30's 16; a model "
                                            "with B validates at its own n)")
    test_length: int | None = _setting(None, "graph size of the test split (default: CLRS-30's 64; a model with B "
                                             "tests at its own n)")
    model: ModelConfig | dict | None = _setting(None, "the architecture (None: table 4's ModelConfig(algo), or init's)")
    init: str | None = _setting(None, "start from this checkpoint (e.g. a compiled model)")
    init_noise: float = _setting(0.0, "perturb the --init weights by SIGMA x a filter-normalised Gaussian "
                                      "direction (key: the seed)")
    select: str = _setting("last", "the parameters each seed keeps: the last step's, or those of its best "
                                   "validation score (best_val: dm-clrs' run.py; the first of equal scores)", SELECT)
    attention_supervision: float = _setting(0.0, "weight W of the attention loss (the cross-entropy of the learned "
                                                 "attention against the compiled model's, teacher-forced) added to "
                                                 "dm-clrs' loss (0: none)")
    attention_reference: str = _setting("general", "the compiled mechanism supervising attention (paper: needs one "
                                                   "--train-lengths N, as its B fixes n)", MECHANISMS)
    supervised_heads: int = _setting(1, "heads of the learned model supervised (the first K; the others are free)")

    def __post_init__(self):
        get_spec(self.algo)
        if isinstance(self.model, dict):  # read back from JSON
            object.__setattr__(self, "model", ModelConfig.from_dict(self.model))
        object.__setattr__(self, "train_lengths", tuple(self.train_lengths))
        if self.model is not None:
            self._check_model(self.model)
        if any(n is not None and n < 2 for n in (self.val_length, self.test_length)):
            raise ValueError("validation and test lengths must be >= 2 nodes")
        if self.select not in SELECT:
            raise ValueError(f"select must be one of {', '.join(SELECT)}, got {self.select!r}")
        if self.select == "best_val" and not self.val_every:
            raise ValueError("select='best_val' keeps the parameters of the best validation score: give val_every > 0")
        self._check_supervision()
        if self.init_noise and not self.init:
            raise ValueError("init_noise perturbs an --init checkpoint: give one")
        if not (self.init_noise >= 0 and np.isfinite(self.init_noise)):
            raise ValueError(f"init_noise must be a finite σ >= 0, got {self.init_noise}")
        if not (self.lr > 0 and np.isfinite(self.lr)):
            raise ValueError(f"lr must be a finite learning rate > 0, got {self.lr}")
        if self.steps < 0 or self.seeds < 1 or self.batch_size < 1:
            raise ValueError("steps must be >= 0, seeds and batch size >= 1")
        if not self.train_lengths or min(self.train_lengths) < 2:
            raise ValueError("train lengths must be >= 2 nodes")
        if not 0 <= self.seed <= MAX_SEED - self.seeds + 1:
            raise ValueError(f"seeds {self.seed}..{self.seed + self.seeds - 1} must lie in [0, 2**63 - 1]")

    def _check_supervision(self) -> None:
        """A ``ValueError`` naming what is wrong with the attention supervision asked for."""
        from ...algorithms import get_algorithm, names

        if not (self.attention_supervision >= 0 and np.isfinite(self.attention_supervision)):
            raise ValueError(f"attention_supervision must be a finite weight >= 0, got {self.attention_supervision}")
        if self.attention_reference not in MECHANISMS:
            raise ValueError(f"attention_reference must be one of {', '.join(MECHANISMS)}, "
                             f"got {self.attention_reference!r}")
        if not self.attention_supervision:
            return
        from ...programs import graph_programs

        program = get_algorithm(self.algo).program
        if program is None:
            raise ValueError(f"attention supervision needs a compiled {self.algo}, which has no program; "
                             f"algorithms with one: {', '.join(names(compiled=True))}")
        if self.algo not in graph_programs():
            raise ValueError(f"attention supervision takes its teacher from a compiled graph program (one head along "
                             f"the edges, as the learner); {self.algo}'s is a {type(program).__name__} (full attention, "
                             f"{'eight' if getattr(program, 'trace', '') == 'clrs' else 'four'} heads); algorithms "
                             f"with one: {', '.join(graph_programs())}")
        if self.attention_reference == "paper" and len(set(self.train_lengths)) != 1:
            raise ValueError("--reference paper supervises with the paper's mechanism, whose B fixes the graph size: "
                             f"give one --train-lengths N (got {','.join(map(str, self.train_lengths))})")
        heads = (self.model.nb_heads if isinstance(self.model, ModelConfig) else None)
        if self.supervised_heads < 1 or (heads is not None and self.supervised_heads > heads):
            raise ValueError(f"supervised_heads must lie in [1, the model's {heads or 'nb_heads'} heads], "
                             f"got {self.supervised_heads}")

    def _check_model(self, model: ModelConfig) -> None:
        """A ``ValueError`` if ``model`` is for another algorithm or its B (a fixed graph
        size) disagrees with the lengths asked for."""
        if model.algorithm != self.algo:
            raise ValueError(f"the model config is for {model.algorithm}, the run for {self.algo}")
        if model.use_pre_att_bias and set(self.train_lengths) != {model.nb_nodes}:
            raise ValueError(f"use_pre_att_bias fixes the graph size to nb_nodes={model.nb_nodes}: "
                             f"give --train-lengths {model.nb_nodes}")
        if model.use_pre_att_bias:
            for what, n in (("test", self.test_length), ("validation", self.val_length)):
                if n is not None and n != model.nb_nodes:
                    raise ValueError(f"use_pre_att_bias fixes the graph size to nb_nodes={model.nb_nodes}: "
                                     f"the {what} length must be {model.nb_nodes}, got {n}")

    @property
    def architecture(self) -> ModelConfig:
        """The effective ``ModelConfig``: ``model``, else table 4's ``ModelConfig(algo)``;
        with an ``init`` checkpoint and no ``model``, a ``ValueError`` (the architecture is
        the checkpoint's: ``resolve_init`` reads it)."""
        if self.model is not None:
            return self.model
        if self.init:
            raise ValueError(f"the architecture is --init {self.init}'s: resolve_init(config) reads it")
        return ModelConfig(self.algo)


def init_architecture(path: str | Path) -> ModelConfig:
    """The ``ModelConfig`` stored with the checkpoint at ``path`` (``FileNotFoundError`` or
    ``ValueError`` naming ``path`` when there is no eqgat checkpoint there)."""
    return ModelConfig.from_dict(read_meta(path)["model"])


def resolve_init(cfg: TrainConfig) -> TrainConfig:
    """``cfg`` with its architecture settled: the ``init`` checkpoint's (read here, the one
    place a ``TrainConfig`` reads a file), else ``cfg.architecture``.

    **Arguments:**

    - ``cfg``: a ``TrainConfig``; with ``init``, its ``model`` (if given) must be the
      checkpoint's, and the checkpoint must be a model of ``cfg.algo``.

    **Returns:**

    A new ``TrainConfig`` whose ``model`` is set (the same settings otherwise); every
    training run starts from it (``train``), so its results record the architecture.
    """
    if not cfg.init:
        return cfg if cfg.model is not None else dataclasses.replace(cfg, model=cfg.architecture)
    saved = init_architecture(cfg.init)
    if saved.algorithm != cfg.algo:
        raise ValueError(f"--init {cfg.init} is a {saved.algorithm} model, not {cfg.algo}")
    if cfg.model is not None and cfg.model != saved:
        diff = {k: (v, getattr(cfg.model, k)) for k, v in saved.to_dict().items() if getattr(cfg.model, k) != v}
        raise ValueError(f"--init {cfg.init} has another architecture than the one asked for: "
                         + ", ".join(f"{k} is {a!r} there, {b!r} here" for k, (a, b) in diff.items()))
    return dataclasses.replace(cfg, model=saved)
