"""The training loop (many seeds at once, in one or several processes) and what it
writes."""

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from ...nn import Model
from ...nn import save
from ._config import TrainConfig, resolve_init
from ._evaluation import eval_batch, eval_split, evaluate_models
from ._step import initial_models, make_step, optimizer, skipped_steps, to_host, unstack


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
    from ...data.batches import SeedBatches

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
