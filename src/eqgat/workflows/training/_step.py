"""One optimisation step for a stack of seeds (one jitted program per step setting and
graph size), the seeds' initial models, and stacking models along the seed axis."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PyTree

from ...data import Batch
from ...nn import Model, batch_steps, load
from ...nn import attention_loss
from ...nn import loss as model_loss
from ._config import TrainConfig


def model_key(seed: int) -> jax.Array:
    """The PRNG key that initialises seed ``seed``'s model: ``jax.random.key(seed)`` below
    2**32 (jax keeps only a seed's low 32 bits without x64), and that key folded with the
    high bits above it, so every 63-bit seed has its own key."""
    low, high = seed & 0xFFFFFFFF, seed >> 32
    key = jax.random.key(low)
    return jax.random.fold_in(key, high) if high else key


def init_model(cfg: TrainConfig, seed: int) -> Model:
    """Seed ``seed``'s initial model: fresh weights from ``model_key(seed)``, or
    ``cfg.init``'s, moved by ``cfg.init_noise`` σ along a filter-normalised Gaussian
    direction drawn from ``model_key(seed)`` (1-D leaves, biases, unperturbed)."""
    if not cfg.init:
        return Model(cfg.architecture, key=model_key(seed))
    model = load(cfg.init)
    if cfg.init_noise:
        from landscape import along, random_direction

        model = along(model, [random_direction(model, model_key(seed))], [cfg.init_noise])
    return model


def initial_models(cfg: TrainConfig) -> Model:
    """Every seed's initial model, stacked (leading seed axis)."""
    return stack([init_model(cfg, cfg.seed + k) for k in range(cfg.seeds)])


def optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
    """dm-clrs' optimiser (global-norm clipping, then Adam), wrapped so that a step whose
    gradient is not finite (NaN or ±inf anywhere) is never applied: it is skipped
    (parameters and Adam's moments unchanged) and counted in the state (``skipped_steps``).

    Equal settings (``lr``, ``grad_clip``) give the very same object, so the training step
    that takes it as a static argument is traced and compiled once for them, however many
    runs train (``make_step``)."""
    return _optimizer(float(cfg.lr), float(cfg.grad_clip))


@functools.lru_cache(maxsize=None)
def _optimizer(lr: float, grad_clip: float) -> optax.GradientTransformation:
    """``optimizer``'s transformation for these settings, built once per pair."""
    parts = [optax.clip_by_global_norm(grad_clip)] if grad_clip else []
    return optax.apply_if_finite(optax.chain(*parts, optax.scale_by_adam(), optax.scale(-lr)),
                                 max_consecutive_errors=2**31 - 1)


def skipped_steps(opt_states) -> np.ndarray:
    """Steps skipped for a non-finite gradient, per seed (stacked optimiser states)."""
    return np.asarray(opt_states.total_notfinite).reshape(-1)


def l1(model: Model) -> jax.Array:
    """Σ|θ| over every trainable array (the author's fork's L1 regulariser)."""
    return optax.tree_utils.tree_norm(eqx.filter(model, eqx.is_inexact_array), ord=1)


def make_step(cfg: TrainConfig, opt: optax.GradientTransformation, reference: Model | None = None):
    """One optimisation step for a stack of seeds (leading axis on models, optimiser
    states and batches): the module-level ``train_step`` with ``opt``, the regularisation
    weight and the attention supervision bound. The settings are static arguments of that
    one jitted function, so runs with equal settings (``optimizer`` returns one object per
    learning rate and clipping) share its traces and compiled programs: a stability sweep
    of many groups compiles once per graph size. ``reference`` is the compiled model whose
    attention supervises (``attention_reference``), when ``cfg.attention_supervision``."""
    supervision = None
    if cfg.attention_supervision:
        if reference is None:
            raise ValueError("attention supervision needs the compiled reference model (attention_reference(cfg))")
        supervision = (float(cfg.attention_supervision), supervised_heads(cfg, reference))
    return functools.partial(train_step, reference=reference, opt=opt,
                             regularization_weight=float(cfg.regularization_weight), supervision=supervision)


def attention_reference(cfg: TrainConfig) -> Model | None:
    """The compiled model whose attention supervises ``cfg``'s run (None without
    supervision): ``cfg.algo`` under ``cfg.attention_reference``'s mechanism, the paper's
    at the run's one graph size."""
    if not cfg.attention_supervision:
        return None
    from ..faithfulness import reference_model

    return reference_model(cfg.algo, cfg.attention_reference, cfg.train_lengths[0])


def supervised_heads(cfg: TrainConfig, reference: Model) -> tuple[tuple[int, int], ...]:
    """The ``(learned head, reference head)`` pairs supervised: the learned model's first
    ``cfg.supervised_heads`` heads, each against the reference's working heads in turn."""
    from ..faithfulness import reference_heads

    heads = reference_heads(reference)
    if cfg.supervised_heads > cfg.architecture.nb_heads:
        raise ValueError(f"supervised_heads {cfg.supervised_heads} > the model's {cfg.architecture.nb_heads} heads")
    return tuple((h, heads[h % len(heads)]) for h in range(cfg.supervised_heads))


def _objective(model: Model, batch: Batch, steps: Int[Array, ""], reference: Model | None,
               regularization_weight: float, supervision) -> Float[Array, ""]:
    """dm-clrs' loss of ``model`` on ``batch``, plus the L1 regulariser and the attention
    loss against ``reference`` when weighted."""
    value = model_loss(model, batch, steps=steps)
    if regularization_weight:
        value = value + regularization_weight * l1(model)
    if supervision is not None:
        weight, heads = supervision
        value = value + weight * attention_loss(model, reference, batch, heads=heads, steps=steps)
    return value


def _one_step(model: Model, opt_state: PyTree, batch: Batch, steps: Int[Array, ""], reference: Model | None,
              opt: optax.GradientTransformation, regularization_weight: float, supervision
              ) -> tuple[Model, PyTree, Float[Array, ""]]:
    """One seed's step: the objective's value and gradient, then ``opt``'s update."""
    value, grads = eqx.filter_value_and_grad(_objective)(model, batch, steps, reference, regularization_weight,
                                                         supervision)
    updates, opt_state = opt.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
    return eqx.apply_updates(model, updates), opt_state, value


@eqx.filter_jit
def train_step(models: Model, opt_states: PyTree, batches: Batch, reference: Model | None = None, *,
               opt: optax.GradientTransformation, regularization_weight: float = 0.0,
               supervision: tuple | None = None) -> tuple[Model, PyTree, Float[Array, " seeds"]]:
    """``models``, ``opt_states`` and ``batches`` carry a leading seed axis; returns them
    updated and each seed's loss (the objective: dm-clrs' loss, plus the regulariser and
    the attention loss when weighted). ``reference`` (shared by every seed) is the compiled
    model whose attention supervises when ``supervision`` = ``(weight, head pairs)``.
    ``opt``, ``regularization_weight`` and ``supervision`` are static (hashed: ``opt`` by
    identity, so build it with ``optimizer``)."""
    # the longest trace over every seed's batch, shared (unbatched) so that steps past it
    # are skipped, not computed and masked
    steps = batch_steps(batches.length)
    return eqx.filter_vmap(lambda m, o, b: _one_step(m, o, b, steps, reference, opt, regularization_weight,
                                                     supervision))(models, opt_states, batches)


def stack(trees):
    """Stack pytrees (models, batches) along a new leading axis."""
    arrays = [eqx.filter(t, eqx.is_array) for t in trees]
    static = eqx.filter(trees[0], eqx.is_array, inverse=True)
    return eqx.combine(jax.tree.map(lambda *xs: jnp.stack(xs), *arrays), static)


def unstack(tree, k: int):
    """Seed ``k``'s slice of a stacked pytree (sliced on the host: indexing a device array
    would compile a slice per leaf shape)."""
    arrays, static = eqx.partition(tree, eqx.is_array)
    return eqx.combine(jax.tree.map(lambda x: jnp.asarray(np.asarray(x)[k]), arrays), static)


def to_host(tree):
    """``tree`` with its arrays copied to the host once (NumPy), for slicing every seed."""
    arrays, static = eqx.partition(tree, eqx.is_array)
    return eqx.combine(jax.tree.map(np.asarray, arrays), static)
