"""Training at the paper's settings (table 4), many seeds in one compiled program.

``python -m eqgat train --algo bfs --seeds 8`` trains 8 initialisations at once: the models
and optimiser states carry a leading seed axis and one ``eqx.filter_vmap``-ed step updates
them all. Seed ``s`` (``--seed S`` gives seeds S, S+1, ...; any seed below 2**63)
initialises its model from ``model_key(s)`` and draws its own graphs from dm-clrs samplers
seeded ``derive_seed(s, n)`` per graph size n, so ``--seeds 2 --seed 0`` trains exactly
what ``--seed 0`` and ``--seed 1`` train alone.

Traces are padded to a per-size time bucket, so training compiles once per graph size.
With several local devices the seed axis is spread over them (``landscape.devices``:
the largest device count dividing ``--seeds``); ``summary.json`` records ``devices``.
"""

import dataclasses
import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PyTree
from tqdm.auto import tqdm

from ..nn import load, model_config, read_meta, save
from ..nn import ModelConfig
from ..data import MAX_SEED, Batch, evaluation_batch
from ..nn import output_score, output_scores, predict
from ..nn import loss as model_loss
from ..nn import Model, batch_steps, run_batch
from ..probes import CLRS30
from ..algorithms import get_spec


def _setting(default, help_: str):
    """A ``TrainConfig`` field: its default, and its help (the command-line flags'
    ``eqgat.cli.flags.add_train_flags``)."""
    return field(default=default, metadata={"help": help_})


@dataclass(frozen=True)
class TrainConfig:
    """Table 4 of the paper, and the flags of its other experiments (every field's help is
    its ``metadata["help"]``, which the command lines show).

    The architecture is ``model`` (a ``ModelConfig``), or when it is None, table 4's
    (``ModelConfig(algo)``: hidden 128 with layer norm) or the ``init`` checkpoint's.
    Constructing a config never reads a file: ``resolve_init`` reads ``init``'s
    architecture (a ``model`` that disagrees with it is an error) and returns the config
    with ``model`` filled in, as every training run does first; ``architecture`` is the
    effective ``ModelConfig``."""

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

    def __post_init__(self):
        get_spec(self.algo)
        if isinstance(self.model, dict):  # read back from JSON
            object.__setattr__(self, "model", ModelConfig.from_dict(self.model))
        object.__setattr__(self, "train_lengths", tuple(self.train_lengths))
        if self.model is not None:
            self._check_model(self.model)
        if any(n is not None and n < 2 for n in (self.val_length, self.test_length)):
            raise ValueError("validation and test lengths must be >= 2 nodes")
        if self.init_noise and not self.init:
            raise ValueError("init_noise perturbs an --init checkpoint: give one")
        if not (self.init_noise >= 0 and np.isfinite(self.init_noise)):
            raise ValueError(f"init_noise must be a finite σ >= 0, got {self.init_noise}")
        if self.steps < 0 or self.seeds < 1 or self.batch_size < 1:
            raise ValueError("steps must be >= 0, seeds and batch size >= 1")
        if not self.train_lengths or min(self.train_lengths) < 2:
            raise ValueError("train lengths must be >= 2 nodes")
        if not 0 <= self.seed <= MAX_SEED - self.seeds + 1:
            raise ValueError(f"seeds {self.seed}..{self.seed + self.seeds - 1} must lie in [0, 2**63 - 1]")

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


def make_step(cfg: TrainConfig, opt: optax.GradientTransformation):
    """One optimisation step for a stack of seeds (leading axis on models, optimiser
    states and batches): the module-level ``train_step`` with ``opt`` and the
    regularisation weight bound. Both are static arguments of that one jitted function, so
    runs with equal settings (``optimizer`` returns one object per learning rate and
    clipping) share its traces and compiled programs: a stability sweep of many groups
    compiles once per graph size."""
    return functools.partial(train_step, opt=opt, regularization_weight=float(cfg.regularization_weight))


def _objective(model: Model, batch: Batch, steps: Int[Array, ""], regularization_weight: float) -> Float[Array, ""]:
    """dm-clrs' loss of ``model`` on ``batch``, plus the L1 regulariser when weighted."""
    value = model_loss(model, batch, steps=steps)
    if regularization_weight:
        value = value + regularization_weight * l1(model)
    return value


def _one_step(model: Model, opt_state: PyTree, batch: Batch, steps: Int[Array, ""], opt: optax.GradientTransformation,
              regularization_weight: float) -> tuple[Model, PyTree, Float[Array, ""]]:
    """One seed's step: the objective's value and gradient, then ``opt``'s update."""
    value, grads = eqx.filter_value_and_grad(_objective)(model, batch, steps, regularization_weight)
    updates, opt_state = opt.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
    return eqx.apply_updates(model, updates), opt_state, value


@eqx.filter_jit
def train_step(models: Model, opt_states: PyTree, batches: Batch, *, opt: optax.GradientTransformation,
               regularization_weight: float = 0.0) -> tuple[Model, PyTree, Float[Array, " seeds"]]:
    """``models``, ``opt_states`` and ``batches`` carry a leading seed axis; returns them
    updated and each seed's loss. ``opt`` and ``regularization_weight`` are static (hashed:
    ``opt`` by identity, so build it with ``optimizer``)."""
    # the longest trace over every seed's batch, shared (unbatched) so that steps past it
    # are skipped, not computed and masked
    steps = batch_steps(batches.length)
    return eqx.filter_vmap(lambda m, o, b: _one_step(m, o, b, steps, opt, regularization_weight))(
        models, opt_states, batches)


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


@eqx.filter_jit
def _scores(models, batch):
    def one(model):
        return run_batch(model, batch).outputs

    return eqx.filter_vmap(one)(models)


def evaluate_models(models, batch) -> np.ndarray:
    """CLRS output score of each stacked model on ``batch`` (one number per seed)."""
    outputs = _scores(models, batch)
    return np.asarray(output_scores(get_spec(batch.algorithm), outputs, batch.outputs, lead=1))


@dataclass
class TrainResult:
    models: Model  # stacked: leading seed axis
    config: TrainConfig
    seeds: list[int]
    losses: np.ndarray  # [steps, seeds]
    skipped: list[int]  # steps not applied because the gradient was not finite, per seed
    val: list[dict]  # {"step", "scores": [per seed]}
    test_scores: list[float] | None
    compiles: int
    seconds: float
    devices: int = 1  # local devices the seed axis was spread over (per process)
    processes: int = 1  # cooperating processes (jax.distributed)

    @property
    def test_split(self) -> str:
        return eval_split(self.config, "test")


def train(cfg: TrainConfig, *, out: str | Path | None = None, test: bool = True, progress: bool = True,
          trajectory_every: int = 0, callback=None, callback_every: int = 0, devices: int | None = None,
          workers: int = 0) -> TrainResult:
    """Train ``cfg.seeds`` seeds of any registered algorithm at once (one vmapped step),
    at the paper's table-4 settings unless ``cfg`` says otherwise.

    **Arguments:**

    - `cfg`: the ``TrainConfig`` (algorithm, steps, lr, batch size, lengths, seeds,
      architecture or ``init`` checkpoint). The run starts by settling the architecture
      (``resolve_init``).
    - `out`: a folder for ``seed{s}.eqx`` checkpoints (+ JSON), per-seed results and
      ``summary.json``; None writes nothing.
    - `test`: score every seed on the test split at the end (``result.test_scores``).
    - `progress`: show a progress bar.
    - `trajectory_every`: save the parameters every N steps (``trajectory.npz``).
    - `callback`, `callback_every`: ``callback(step, stacked_models)`` every N steps.
    - `devices`: spread the seed axis over at most this many local devices (default: all
      that divide the seeds; results agree across device counts to float rounding).
    - `workers`: processes drawing the training batches ahead of the steps (the same
      batches as 0).

    **Returns:**

    A ``TrainResult``: the stacked models, losses ``[steps, seeds]``, validation and test
    scores, skipped steps. In a run of several processes
    (``landscape.devices.initialize_processes``) each trains its block of the seeds and
    process 0 writes every result (``train_processes``).
    """
    cfg = resolve_init(cfg)
    if jax.process_count() > 1:
        if trajectory_every or callback is not None:
            raise ValueError("trajectories and callbacks need a single process")
        return train_processes(cfg, out=out, test=test, progress=progress, devices=devices, workers=workers)
    return _train_here(cfg, out=out, test=test, progress=progress, trajectory_every=trajectory_every,
                       callback=callback, callback_every=callback_every, devices=devices, workers=workers)


def train_processes(cfg: TrainConfig, *, out: str | Path | None = None, test: bool = True,
                    progress: bool = True, devices: int | None = None, workers: int = 0) -> TrainResult:
    """Process k of P trains seeds ``cfg.seed + k·m`` .. ``+ m - 1`` (m = seeds / P): the
    same seeds, data and keys as a single process. Models, losses and scores are gathered
    (``landscape.devices.gather_processes``); process 0 writes the checkpoints, then the
    test scores, which each process computes for its own seeds."""
    from landscape.devices import gather_processes

    cfg = resolve_init(cfg)
    P, k = jax.process_count(), jax.process_index()
    if cfg.seeds % P:
        raise ValueError(f"--seeds {cfg.seeds} must be a multiple of the {P} processes")
    m = cfg.seeds // P
    local = _train_here(dataclasses.replace(cfg, seed=cfg.seed + k * m, seeds=m), test=False,
                        progress=progress and k == 0, devices=devices, workers=workers)
    arrays, static = eqx.partition(local.models, eqx.is_array)
    models = eqx.combine(jax.tree.map(jnp.asarray, gather_processes(jax.tree.map(np.asarray, arrays))), static)
    val = [dict(v) for v in local.val]
    if val:
        scores = gather_processes(np.array([v["scores"] for v in local.val]).T).T
        for v, row in zip(val, scores):
            v["scores"] = row.tolist()
    result = TrainResult(models, cfg, [cfg.seed + j for j in range(cfg.seeds)],
                         gather_processes(local.losses.T).T, gather_processes(np.array(local.skipped)).tolist(), val,
                         None, local.compiles, float(gather_processes(np.array([local.seconds])).max()),
                         local.devices, P)
    if out is not None and k == 0:
        write_results(result, Path(out))
    if test:
        own = evaluate_models(local.models, eval_batch(cfg, "test"))
        result.test_scores = [float(x) for x in gather_processes(np.asarray(own))]
        if out is not None and k == 0:
            write_results(result, Path(out))
    return result


def _train_here(cfg: TrainConfig, *, out: str | Path | None = None, test: bool = True,
                progress: bool = True, trajectory_every: int = 0, callback=None, callback_every: int = 0,
                devices: int | None = None, workers: int = 0) -> TrainResult:
    """``train`` in this process."""
    from ..data.batches import SeedBatches

    cfg = resolve_init(cfg)
    seeds = [cfg.seed + k for k in range(cfg.seeds)]
    from landscape.devices import devices_used, mesh_for, shard_leading

    mesh = mesh_for(cfg.seeds, "seeds", devices)  # the seed axis over the local devices
    models = shard_leading(initial_models(cfg), mesh)
    opt = optimizer(cfg)
    opt_states = eqx.filter_vmap(lambda m: opt.init(eqx.filter(m, eqx.is_inexact_array)))(models)
    step_fn = make_step(cfg, opt)
    val_batch = eval_batch(cfg, "val") if cfg.val_every else None
    losses, val, trajectory = [], [], []
    compiled_sizes = set()
    t0 = time.time()
    bar = tqdm(total=cfg.steps, disable=not progress, desc=f"train {cfg.algo} x{cfg.seeds}", unit="step")
    data = SeedBatches(cfg.algo, seeds, cfg.train_lengths, cfg.steps, batch_size=cfg.batch_size,
                       random_pos=cfg.random_pos, workers=workers)
    with data, bar:
        for i, batches in enumerate(data):
            n = cfg.train_lengths[i % len(cfg.train_lengths)]
            if n not in compiled_sizes:  # this step compiles: never while earlier steps still run
                jax.block_until_ready(models)
                compiled_sizes.add(n)
            models, opt_states, loss = step_fn(models, opt_states, shard_leading(batches, mesh))
            losses.append(loss)  # on the device: read back below, so the host draws ahead
            _after_step(i, cfg, models, val, val_batch, trajectory, trajectory_every, callback, callback_every)
            bar.update()
            if progress and (i % 10 == 9 or i + 1 == cfg.steps):
                rate = (i + 1) * cfg.batch_size * cfg.seeds / (time.time() - t0)
                post = {"loss": f"{float(np.mean(loss)):.3f}", "graphs/s": f"{rate:.0f}"}
                if val:
                    post["val"] = f"{np.mean(val[-1]['scores']):.3f}"
                bar.set_postfix(post, refresh=False)
    seconds = time.time() - t0
    losses = [np.asarray(x) for x in losses]
    result = TrainResult(models, cfg, seeds, np.array(losses).reshape(-1, cfg.seeds),
                         skipped_steps(opt_states).tolist(), val, None, len(compiled_sizes), seconds,
                         devices_used(mesh))
    if out is not None:  # the trained models are saved before anything that could fail
        write_results(result, Path(out), trajectory)
    if test:
        result.test_scores = [float(x) for x in evaluate_models(models, eval_batch(cfg, "test"))]
        if out is not None:
            write_results(result, Path(out), trajectory)
    return result


def _after_step(i: int, cfg: TrainConfig, models, val: list, val_batch, trajectory: list,
                trajectory_every: int, callback, callback_every: int) -> None:
    """What runs after training step ``i``: a trajectory snapshot, the callback, validation
    (each first waits for the step: what they compile is never compiled beside a running step)."""
    snapshot = trajectory_every and i % trajectory_every == 0
    call = callback is not None and callback_every and (i + 1) % callback_every == 0
    validate = cfg.val_every and (i + 1) % cfg.val_every == 0
    if snapshot or call or validate:
        jax.block_until_ready(models)
    if snapshot:
        trajectory.append(jax.tree.map(np.asarray, eqx.filter(models, eqx.is_inexact_array)))
    if call:
        callback(i + 1, models)
    if validate:
        val.append({"step": i + 1, "scores": evaluate_models(models, val_batch).tolist()})


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


def write_results(result: TrainResult, out: Path, trajectory=(), *, summary: bool = True) -> None:
    """Per seed: ``seed{s}.eqx`` (+ JSON of every setting) and ``seed{s}.json`` results;
    ``summary.json`` for the run (unless ``summary`` is False: a folder holding several
    runs' seeds); ``trajectory.npz`` if snapshots were taken."""
    out.mkdir(parents=True, exist_ok=True)
    cfg = dataclasses.asdict(result.config)
    models = to_host(result.models)
    for k, s in enumerate(result.seeds):
        model = unstack(models, k)
        save(out / f"seed{s}.eqx", model, source="trained", train_config=cfg, seed=s)
        rec = {
            "seed": s,
            "final_loss": float(result.losses[-1, k]) if len(result.losses) else None,
            "skipped_steps": result.skipped[k],
            "val": [{"step": v["step"], "score": v["scores"][k]} for v in result.val],
            "test_score": None if result.test_scores is None else result.test_scores[k],
        }
        (out / f"seed{s}.json").write_text(json.dumps(rec, indent=2))
    if not summary:
        return
    run = {
        "config": cfg, "seeds": result.seeds, "test_scores": result.test_scores, "skipped_steps": result.skipped,
        "test_split": result.test_split,
        "seconds": result.seconds, "graph_sizes_compiled": result.compiles, "devices": result.devices,
        "processes": result.processes,
        "loss_curve_mean": result.losses.mean(axis=1).tolist() if len(result.losses) else [],
    }
    (out / "summary.json").write_text(json.dumps(run, indent=2))
    if trajectory:
        save_trajectory(out / "trajectory.npz", trajectory)


def save_trajectory(path: Path, snapshots: list) -> None:
    """``snapshots`` (parameter pytrees with a leading seed axis) as ``path`` (.npz): one
    ``[snapshots, seeds, ...]`` array per parameter, named by its path in the model
    (``jax.tree_util.keystr``, e.g. ``.processor.W_val.weight``)."""
    named, _ = jax.tree_util.tree_flatten_with_path(snapshots[0])
    columns = zip(*(jax.tree.leaves(s) for s in snapshots))
    np.savez(path, **{jax.tree_util.keystr(p): np.stack(c) for (p, _), c in zip(named, columns)})


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
