"""Scoring trained seeds: on a batch, on the validation and test splits, and a saved
checkpoint."""

from pathlib import Path

import equinox as eqx
import numpy as np

from ...algorithms import get_spec
from ...data import evaluation_batch
from ...nn import load, model_config, output_score, output_scores, predict
from ...nn import read_meta, run_batch
from ...probes import CLRS30
from ._config import TrainConfig


@eqx.filter_jit
def _scores(models, batch):
    def one(model):
        return run_batch(model, batch).outputs

    return eqx.filter_vmap(one)(models)


def evaluate_models(models, batch) -> np.ndarray:
    """CLRS output score of each stacked model on ``batch`` (one number per seed)."""
    outputs = _scores(models, batch)
    return np.asarray(output_scores(get_spec(batch.algorithm), outputs, batch.outputs, lead=1))


def eval_length(cfg: TrainConfig, split: str) -> int:
    """The graph size ``split`` ('val' or 'test') evaluates at: a model with B evaluates at
    its own ``nb_nodes``; otherwise ``val_length`` and ``test_length`` (default CLRS-30's)."""
    if cfg.architecture.use_pre_att_bias:
        return cfg.architecture.nb_nodes
    n = cfg.val_length if split == "val" else cfg.test_length
    return CLRS30[split]["length"] if n is None else n


def eval_split(cfg: TrainConfig, split: str) -> str:
    """What ``split`` ('val' or 'test') evaluates on, in words."""
    n = eval_length(cfg, split)
    if cfg.architecture.use_pre_att_bias:
        return f"32 test-distribution graphs of {n} nodes (use_pre_att_bias fixes n)"
    if n == CLRS30[split]["length"]:
        return f"CLRS-30 {split} split (n={n})"
    return f"CLRS-30 {split} split's sampler (seed {CLRS30[split]['seed']}, 32 graphs) at n={n}"


def eval_batch(cfg: TrainConfig, split: str):
    """The batch of ``eval_split(cfg, split)`` (``eqgat.data.evaluation_batch``): the
    CLRS-30 split at ``eval_length``, or for a model with B, 32 graphs of its size drawn
    with the split's sampler seed."""
    n = eval_length(cfg, split)
    if cfg.architecture.use_pre_att_bias:
        return evaluation_batch(cfg.algo, "sampler", length=n, seed=CLRS30[split]["seed"])
    return evaluation_batch(cfg.algo, split, length=n)


def evaluate_checkpoint(path: str | Path, length: int = 64, split: str | None = None) -> dict:
    """Reload a checkpoint (trained or compiled) and score it on the CLRS-30 test split
    (n=64) or, for another ``length``, on 32 test-distribution graphs of that size drawn
    with the test split's sampler seed (``eqgat.data.evaluation_batch``)."""
    meta = read_meta(path)
    model = load(path)
    if length == CLRS30["test"]["length"] or split == "test":
        batch = evaluation_batch(model.algorithm, "test")
    else:
        batch = evaluation_batch(model.algorithm, "sampler", length=length, seed=CLRS30["test"]["seed"])
    score = output_score(model, predict(model, batch), batch)
    return {"checkpoint": str(path), "algorithm": model.algorithm, "length": length, "score": score,
            "source": meta["info"].get("source"), "model": model_config(model)}
