"""Scoring predictions against ground truth: hard post-processing, per-probe matches per
hint step, and the CLRS output score."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._decoders import postprocess
from ._model import Model, Prediction, check_batch, run_batch
from ..probes import Stage, Type, live_steps


@eqx.filter_jit
def _predict(model: Model, batch, teacher_forcing: bool, return_logits: bool) -> Prediction:
    return run_batch(model, batch, teacher_forcing=teacher_forcing, return_logits=return_logits)


def predict(model: Model, batch, teacher_forcing: bool = False, return_logits: bool = False) -> Prediction:
    """Run ``model`` on every graph of ``batch`` (jitted, vmapped over the batch axis).

    **Arguments:**

    - `model`: an eqgat ``Model`` (trained, compiled or fresh).
    - `batch`: an ``eqgat.Batch`` of the model's algorithm (``eqgat.sample``).
    - `teacher_forcing`: feed the true hints back instead of the predicted ones.
    - `return_logits`: also return every step's attention logits.

    **Returns:**

    A ``Prediction``: output and hint logits, attention α and hidden states per step.
    """
    if batch.algorithm != model.algorithm:
        raise ValueError(f"the batch is of {batch.algorithm!r} graphs, the model computes {model.algorithm!r}")
    return _predict(model, batch, teacher_forcing, return_logits)


def close(probe, pred, truth, *, rtol: float = 1e-4):
    """Elementwise agreement (NumPy or JAX arrays): scalars within ``rtol`` relative (1e-6
    absolute near 0), everything else (pointers, masks, one-hots) exactly equal."""
    if probe.type == Type.SCALAR:
        return abs(pred - truth) <= rtol * abs(truth) + 1e-6
    return pred == truth


def _reduce_nodes(probe, ok: np.ndarray, lead: int) -> np.ndarray:
    """All of a probe's per-node (and per-category) entries right, per leading index."""
    return ok.reshape(ok.shape[:lead] + (-1,)).all(axis=-1)


def matches(model: Model, pred: Prediction, batch, *, rtol: float = 1e-4) -> dict[str, np.ndarray]:
    """Per probe, whether the hard prediction is entirely right (every node and class).

    **Arguments:**

    - `model`: the ``Model`` that made `pred`.
    - `pred`: a batched ``Prediction`` of `batch` (``eqgat.predict``).
    - `batch`: the ``Batch``.
    - `rtol`: the relative tolerance for scalars.

    **Returns:**

    ``{probe name: bool array}``: hints ``[b, T-1]`` (step t against hint t+1; False past
    the trace), outputs ``[b]`` (NumPy).
    """
    spec = {p.name: p for p in model.spec}
    T = batch.trace_length
    live = live_steps(np.asarray(batch.length), max(1, T - 1))
    out = {}
    for name, logits in pred.hints.items():
        p = spec[name]
        hard = np.asarray(postprocess(p, logits, hard=True))
        truth = np.asarray(batch.hints[name][:, 1:])
        out[name] = _reduce_nodes(p, close(p, hard, truth, rtol=rtol), 2) & live
    for name, logits in pred.outputs.items():
        p = spec[name]
        hard = np.asarray(postprocess(p, logits, hard=True))
        out[name] = _reduce_nodes(p, close(p, hard, np.asarray(batch.outputs[name]), rtol=rtol), 1)
    return out


def output_scores(spec, outputs: dict[str, jax.Array], truth: dict[str, jax.Array], *,
                  lead: int = 0) -> jax.Array:
    """The CLRS score, the one implementation (traceable, so a landscape grid can vmap
    it): per output probe the fraction of entries equal to the truth (dm-clrs' ``evaluate``:
    for a pointer output, the fraction of nodes with the right pointer; scalars within
    1e-4 relative), averaged over probes.

    **Arguments:**

    - `spec`: the algorithm's probes (``model.spec``).
    - `outputs`: output logits by probe name, ``[*lead, b, ...]``.
    - `truth`: the true outputs by probe name, ``[b, ...]`` (broadcast over the lead
      axes).
    - `lead`: leading axes of `outputs` to keep (e.g. a seed axis, or a landscape's grid
      points).

    **Returns:**

    The score ``[*lead]``, a scalar for ``lead=0``.
    """
    per = []
    for p in spec:
        if p.stage != Stage.OUTPUT:
            continue
        hard = postprocess(p, outputs[p.name], hard=True)
        ok = close(p, hard, jnp.broadcast_to(truth[p.name], hard.shape)).astype(jnp.float32)
        per.append(ok.reshape(ok.shape[:lead] + (-1,)).mean(-1))
    return jnp.mean(jnp.stack(per), axis=0)


def output_score(model: Model, pred: Prediction, batch) -> float:
    """The CLRS score of a prediction you already have (``output_scores``).

    **Arguments:**

    - `model`: the ``Model`` that made `pred`.
    - `pred`: a batched ``Prediction`` of `batch`.
    - `batch`: the ``Batch``.

    **Returns:**

    The score, a float in [0, 1] (the same as ``score(model, batch)``).
    """
    check_batch(model, batch, outputs=True)
    return float(output_scores(model.spec, pred.outputs, batch.outputs))


def score(model: Model, batch) -> float:
    """The CLRS output score of ``model`` on ``batch`` (dm-clrs' ``evaluate``).

    **Arguments:**

    - `model`: an eqgat ``Model``.
    - `batch`: an ``eqgat.Batch`` of the model's algorithm.

    **Returns:**

    Per output probe, the fraction of entries predicted exactly (pointers: the right
    node; scalars within 1e-4 relative), averaged over the output probes: a float in [0, 1].
    """
    return output_score(model, predict(model, batch), batch)
