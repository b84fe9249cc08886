"""The output and hint losses dm-clrs computes (``clrs._src.losses``), on a whole batch.

Each probe's loss is normalised by its own count of scored entries; the total is the
unweighted sum over outputs and (when the model decodes hints) hints. Hint step t's
prediction is scored against hint t+1 and only while t+1 < length, so time padding never
contributes.
"""

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int

from ._model import Model, Prediction, batch_steps, check_batch, run_batch
from ..probes import Probe, Stage, Type, live_steps
from ..data import Batch

EPS = 1e-12


def _pointer_nll(logits: Array, truth: Array) -> Array:
    """-log softmax(logits)[truth] per entry (dm-clrs: -Σ one_hot(truth)·log_softmax).

    optax's integer-label cross-entropy is a gather, not the one-hot sum: on XLA:CPU
    (jaxlib 0.10.2) the vmapped one-hot sum mixed up rows between grid points once 13 or
    more were evaluated together."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, truth.astype(jnp.int32))


def _one_hot_nll(logits: Array, truth: Array) -> Array:
    """-Σ_k truth_k·log softmax(logits)_k for one-hot ``truth`` (categoricals, mask_one),
    as a gather at the hot index (``_pointer_nll``'s reason: the vmapped one-hot sum mixed
    rows between landscape grid points; seen on dfs_light's ``color``). Rows with no hot
    entry give 0, as the sum does."""
    hot = jnp.any(truth == 1, axis=-1)
    return jnp.where(hot, _pointer_nll(logits, jnp.argmax(truth, axis=-1)), 0.0)


def output_loss(probe: Probe, logits: Array, truth: Array) -> Float[Array, ""]:
    """dm-clrs' ``output_loss`` for one output probe.

    **Arguments:**

    - `probe`: the output ``Probe``.
    - `logits`: its predicted logits ``[b, ...]`` (pointers ``[b, i, j]``).
    - `truth`: its ground truth ``[b, ...]`` (pointers as node indices ``[b, n]``).

    **Returns:**

    The loss, a scalar: mean squared error for scalars, masked binary cross-entropy for
    masks (entries equal to -1 do not count), cross-entropy for mask_one, categoricals
    and pointers, each normalised by its count of scored entries.
    """
    t = probe.type
    if t == Type.SCALAR:
        return jnp.mean((logits - truth) ** 2)
    if t == Type.MASK:
        mask = (truth != -1).astype(jnp.float32)
        return jnp.sum(optax.sigmoid_binary_cross_entropy(logits, truth) * mask) / jnp.sum(mask)
    if t in (Type.MASK_ONE, Type.CATEGORICAL):
        return jnp.sum(_one_hot_nll(logits, truth)) / jnp.sum(truth == 1)
    if t == Type.POINTER:
        return jnp.mean(_pointer_nll(logits, truth))
    raise ValueError(f"unknown probe type {t!r}")


def hint_loss(probe: Probe, logits: Array, truth: Array, length: Float[Array, " b"]) -> Float[Array, ""]:
    """dm-clrs' ``hint_loss`` for one hint probe.

    **Arguments:**

    - `probe`: the hint ``Probe``.
    - `logits`: its predicted logits ``[b, T-1, ...]`` (step t predicts hint t+1).
    - `truth`: its ground truth ``[b, T, ...]``; ``truth[:, 1:]`` is scored.
    - `length`: the trace lengths ``[b]``: steps t with t + 1 >= length are padding and
      do not count.

    **Returns:**

    The loss over the live steps, a scalar, normalised by the count of scored entries.
    """
    truth = truth[:, 1:]
    t = probe.type
    mask = None
    if t == Type.SCALAR:
        loss = (logits - truth) ** 2
    elif t == Type.MASK:
        loss = optax.sigmoid_binary_cross_entropy(logits, truth)
        mask = (truth != -1).astype(jnp.float32)
    elif t == Type.MASK_ONE:
        loss = _one_hot_nll(logits, truth)[..., None]
    elif t == Type.CATEGORICAL:
        loss = _one_hot_nll(logits, truth)
        mask = jnp.any(truth == 1, axis=-1).astype(jnp.float32)
    elif t == Type.POINTER:
        loss = _pointer_nll(logits, truth)
    else:
        raise ValueError(f"unknown probe type {t!r}")
    if mask is None:
        mask = jnp.ones_like(loss)
    live = live_steps(length, loss.shape[1]).astype(jnp.float32)
    mask = mask * live.reshape(live.shape + (1,) * (loss.ndim - 2))
    return jnp.sum(loss * mask) / jnp.maximum(jnp.sum(mask), EPS)


def prediction_losses(model: Model, pred: Prediction, batch: Batch) -> dict[str, Float[Array, ""]]:
    """Each probe's loss, by name, for a batched prediction.

    **Arguments:**

    - `model`: the ``Model`` that made `pred` (its spec names the probes).
    - `pred`: a batched ``Prediction`` of `batch` (``run_batch``).
    - `batch`: the ``Batch``.

    **Returns:**

    ``{probe name: scalar loss}`` for every output and every predicted hint.
    """
    out = {}
    for p in model.spec:
        if p.stage == Stage.OUTPUT:
            out[p.name] = output_loss(p, pred.outputs[p.name], batch.outputs[p.name])
        elif p.stage == Stage.HINT and p.name in pred.hints:
            out[p.name] = hint_loss(p, pred.hints[p.name], batch.hints[p.name], batch.length)
    return out


def loss(model: Model, batch: Batch, *, steps: Int[Array, ""] | None = None) -> Float[Array, ""]:
    """The dm-clrs training loss of ``model`` on ``batch``: outputs plus hints, a scalar
    function of the model (differentiate it with ``eqx.filter_grad``).

    **Arguments:**

    - `model`: an eqgat ``Model``.
    - `batch`: a ``Batch`` of its algorithm.
    - `steps`: message-passing steps to compute (default: the batch's longest trace
      minus one; see ``run_batch``).

    **Returns:**

    The unweighted sum of ``prediction_losses``, a scalar.
    """
    check_batch(model, batch, outputs=True)
    pred = run_batch(model, batch, steps=steps)
    return sum(prediction_losses(model, pred, batch).values())


def attention_loss(model: Model, reference: Model, batch: Batch, *, heads: tuple[tuple[int, int], ...] = ((0, 0),),
                   steps: Int[Array, ""] | None = None) -> Float[Array, ""]:
    """The attention loss of ``model`` against ``reference`` (a compiled model) on
    ``batch``: the cross-entropy ``-Σ_j α*_ij log α̂_ij`` of the learned attention α̂ against
    the reference's α*, per receiver i, both fed the ground-truth trace (teacher forcing,
    as φ_internal is measured), averaged over receivers, supervised heads and live steps.

    **Arguments:**

    - `model`: the learned ``Model``.
    - `reference`: the ``Model`` whose attention is the target (held fixed: no gradient
      flows into it).
    - `batch`: a ``Batch`` both models read (the reference's B, if any, fixes its n).
    - `heads`: ``(learned head, reference head)`` pairs to supervise; other heads are free.
    - `steps`: see ``run_batch``.

    **Returns:**

    A scalar: the mean cross-entropy in nats (0 when α̂ = α* and α* is one-hot).
    """
    steps = batch_steps(batch.length) if steps is None else steps
    learned = run_batch(model, batch, teacher_forcing=True, steps=steps, return_logits=True)
    target = jax.lax.stop_gradient(run_batch(reference, batch, teacher_forcing=True, steps=steps).alpha)
    mine, theirs = (jnp.array([h for h, _ in heads]), jnp.array([r for _, r in heads]))
    log_alpha = jax.nn.log_softmax(learned.logits[:, :, mine], axis=-1)  # [b, T-1, K, i, j]
    target = target[:, :, theirs]
    # a sender the target never picks adds nothing, even where the mask makes log α̂ huge
    ce = -jnp.sum(jnp.where(target > 0, target * log_alpha, 0.0), axis=-1)  # [b, T-1, K, i]
    T = ce.shape[1]
    live = (jnp.arange(T)[None, :] < batch.length[:, None] - 1).astype(ce.dtype)  # step t reads hint t, writes t+1
    per_step = ce.mean(axis=(2, 3))  # [b, T-1]
    return jnp.sum(per_step * live) / jnp.maximum(jnp.sum(live), 1.0)