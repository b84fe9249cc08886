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
from ._select import BestValidation
from ._state import (Checkpointing, Saver, Stops, TrainingInterrupted, TrainState, check_resumable, mark_finished,
                     read_manifest, read_state, settings_of, write_state)
from ._step import attention_reference, initial_models, make_step, optimizer, skipped_steps, to_host, unstack


@dataclass
class TrainResult:
    """What ``train`` returns: the run's models and its records.

    **Arguments:**

    - `models`: the kept models of every seed, stacked (a leading seed axis; under
      ``select="best_val"`` each seed's best-validation parameters).
    - `config`: the ``TrainConfig`` the run trained (its architecture settled).
    - `seeds`: the seeds, in the stack's order.
    - `losses`: the training loss ``[steps, seeds]``.
    - `skipped`: per seed, the steps not applied because the gradient was not finite.
    - `val`: the validation history, ``{"step", "scores": [per seed]}`` per validation.
    - `test_scores`: per seed, the test split's score (None when not tested).
    - `compiles`: the graph sizes the step was compiled for.
    - `seconds`: the run's wall time (a resumed run's included).
    - `devices`, `processes`: the local devices the seed axis spread over, the processes.
    - `trajectory`: the parameter snapshots (``trajectory_every``).
    - `data_wait`: of ``seconds``, the time the loop waited for its training batches.
    - `selected_steps`: under ``select="best_val"``, the step each seed's models are from.

    **Returns:**

    A record; ``test_split`` names the split the test scores are on, and
    ``data_wait_fraction`` is ``data_wait / seconds``.
    """

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
    trajectory: list = dataclasses.field(default_factory=list)  # parameter snapshots (trajectory_every)
    data_wait: float = 0.0  # of ``seconds``, the time the loop waited for its training batches
    selected_steps: list[int] | None = None  # select="best_val": the step each seed's models are from

    @property
    def data_wait_fraction(self) -> float:
        """The share of the training loop's wall time spent waiting for data (drawing
        batches, or waiting for the workers that draw them), not computing."""
        return self.data_wait / self.seconds if self.seconds else 0.0

    @property
    def test_split(self) -> str:
        return eval_split(self.config, "test")


def train(cfg: TrainConfig, *, out: str | Path | None = None, test: bool = True, progress: bool = True,
          trajectory_every: int = 0, callback=None, callback_every: int = 0, devices: int | None = None,
          workers: int = 0, resume: bool = False, checkpoint_every: int = 1000,
          checkpoint_minutes: float = 10.0) -> TrainResult:
    """Train ``cfg.seeds`` seeds of any registered algorithm at once (one vmapped step),
    at the paper's table-4 settings unless ``cfg`` says otherwise.

    **Arguments:**

    - `cfg`: the ``TrainConfig`` (algorithm, steps, lr, batch size, lengths, seeds,
      architecture or ``init`` checkpoint). The run starts by settling the architecture
      (``resolve_init``).
    - `out`: a folder for ``seed{s}.eqx`` checkpoints (+ JSON), per-seed results,
      ``summary.json`` and the training state (``out/state/``); None writes nothing.
    - `test`: score every seed on the test split at the end (``result.test_scores``).
    - `progress`: show a progress bar.
    - `trajectory_every`: save the parameters every N steps (``trajectory.npz``).
    - `callback`, `callback_every`: ``callback(step, stacked_models)`` every N steps (a
      resumed run calls it for the steps after its state only).
    - `devices`: spread the seed axis over at most this many local devices (default: all
      that divide the seeds; results agree across device counts to float rounding).
    - `workers`: processes drawing the training batches ahead of the steps (the same
      batches as 0).
    - `resume`: continue from the state in ``out/state/`` (a fresh start when there is
      none; a finished run is returned as it is, nothing written). Any setting that differs
      from the saved run's is refused by name, before anything else.
    - `checkpoint_every`, `checkpoint_minutes`: with ``out``, save the whole training
      state every N steps and after this much wall time since the last save (0: never).
      SIGINT and SIGTERM then finish the step, save and raise ``TrainingInterrupted``.

    **Returns:**

    A ``TrainResult``: the stacked models, losses ``[steps, seeds]``, validation and test
    scores, skipped steps. In a run of several processes
    (``landscape.devices.initialize_processes``) each trains its block of the seeds and
    process 0 writes every result (``train_processes``). A resumed run's result (and
    everything it writes, but wall times) is bit-identical to an uninterrupted run's.
    """
    cfg = resolve_init(cfg)
    P = jax.process_count()
    if P > 1 and (trajectory_every or callback is not None):
        raise ValueError("trajectories and callbacks need a single process")
    ck = None
    if out is not None:
        ck = Checkpointing(Path(out) / "state", checkpoint_every, checkpoint_minutes, resume, jax.process_index(), P)
    settings = settings_of(cfg, trajectory_every=trajectory_every, test=test, processes=P)
    if ck is not None:
        saved = read_manifest(ck.folder)
        if resume and saved is not None:
            check_resumable(ck.folder, settings)  # first: a finished run under other settings is refused too
            if saved["finished"]:
                return _finished(cfg, ck, saved, Path(out), devices)
        elif saved is not None and not saved["finished"]:
            raise ValueError(f"{out} holds an unfinished run's state (step {saved['step']} of {saved['settings']['steps']}):"
                             " resume it (--resume), or train into another --out")
    if P > 1:
        return train_processes(cfg, out=out, test=test, progress=progress, devices=devices, workers=workers,
                               checkpoint=ck, settings=settings)
    result, _ = _train_here(cfg, progress=progress, trajectory_every=trajectory_every,
                            callback=callback, callback_every=callback_every, devices=devices, workers=workers,
                            checkpoint=ck, settings=settings)
    if out is not None:  # the trained models are saved before anything that could fail
        write_results(result, Path(out), result.trajectory)
    if test:
        result.test_scores = [float(x) for x in evaluate_models(result.models, eval_batch(cfg, "test"))]
        if out is not None:
            write_results(result, Path(out), result.trajectory)
    if ck is not None:
        mark_finished(ck.folder)
    return result


def train_processes(cfg: TrainConfig, *, out: str | Path | None = None, test: bool = True,
                    progress: bool = True, devices: int | None = None, workers: int = 0,
                    checkpoint: Checkpointing | None = None, settings: dict | None = None) -> TrainResult:
    """Process k of P trains seeds ``cfg.seed + k·m`` .. ``+ m - 1`` (m = seeds / P): the
    same seeds, data and keys as a single process. Models, losses and scores are gathered
    (``landscape.devices.gather_processes``); process 0 writes the checkpoints, then the
    test scores, which each process computes for its own seeds. With ``checkpoint``, each
    process saves its seeds' state as one part of ``checkpoint.folder`` (by step count
    only), and process 0 completes it (``train`` builds these)."""
    from landscape.devices import gather_processes

    cfg = resolve_init(cfg)
    P, k = jax.process_count(), jax.process_index()
    if cfg.seeds % P:
        raise ValueError(f"--seeds {cfg.seeds} must be a multiple of the {P} processes")
    m = cfg.seeds // P
    local, _ = _train_here(dataclasses.replace(cfg, seed=cfg.seed + k * m, seeds=m),
                           progress=progress and k == 0, devices=devices, workers=workers, checkpoint=checkpoint,
                           settings=settings)
    result = _gathered(local, cfg)
    if out is not None and k == 0:
        write_results(result, Path(out))
    if test:
        own = evaluate_models(local.models, eval_batch(cfg, "test"))
        result.test_scores = [float(x) for x in gather_processes(np.asarray(own))]
        if out is not None and k == 0:
            write_results(result, Path(out))
    if checkpoint is not None:
        _barrier("finished")
        if k == 0:
            mark_finished(checkpoint.folder)
    return result


def _gathered(local: TrainResult, cfg: TrainConfig) -> TrainResult:
    """Every process's ``local`` result (its block of ``cfg``'s seeds) as one result."""
    from landscape.devices import gather_processes

    arrays, static = eqx.partition(local.models, eqx.is_array)
    models = eqx.combine(jax.tree.map(jnp.asarray, gather_processes(jax.tree.map(np.asarray, arrays))), static)
    val = [dict(v) for v in local.val]
    if val:
        scores = gather_processes(np.array([v["scores"] for v in local.val]).T).T
        for v, row in zip(val, scores):
            v["scores"] = row.tolist()
    return TrainResult(models, cfg, [cfg.seed + j for j in range(cfg.seeds)],
                       gather_processes(local.losses.T).T, gather_processes(np.array(local.skipped)).tolist(), val,
                       None, local.compiles, float(gather_processes(np.array([local.seconds])).max()),
                       local.devices, jax.process_count(),
                       data_wait=float(gather_processes(np.array([local.data_wait])).max()),
                       selected_steps=None if local.selected_steps is None else
                       gather_processes(np.array(local.selected_steps)).tolist())


def _barrier(name: str) -> None:
    """Wait for every process (a no-op in a single one)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def _start(cfg: TrainConfig, mesh, opt, ck: Checkpointing | None, settings: dict | None) -> TrainState:
    """Step 0's state (the initial models and optimiser states), or the saved state that
    ``ck`` resumes."""
    from landscape.devices import shard_leading

    models = shard_leading(initial_models(cfg), mesh)
    opt_states = eqx.filter_vmap(lambda m: opt.init(eqx.filter(m, eqx.is_inexact_array)))(models)
    fresh = TrainState(0, models, opt_states, np.zeros((0, cfg.seeds), np.float32))
    if cfg.select == "best_val":
        fresh.best, fresh.best_scores, fresh.best_steps = models, [None] * cfg.seeds, [None] * cfg.seeds
    if ck is None or not ck.resume or (manifest := check_resumable(ck.folder, settings)) is None:
        return fresh
    st = read_state(ck, manifest, models, opt_states)
    st.models, st.opt_states, st.best = shard_leading((st.models, st.opt_states, st.best), mesh)
    return st


def _finished(cfg: TrainConfig, ck: Checkpointing, manifest: dict, out: Path, devices: int | None) -> TrainResult:
    """The result of the finished run in ``out`` (read back; nothing is written)."""
    from landscape.devices import devices_used, mesh_for

    P, k = jax.process_count(), jax.process_index()
    local = dataclasses.replace(cfg, seed=cfg.seed + k * (cfg.seeds // P), seeds=cfg.seeds // P)
    mesh = mesh_for(local.seeds, "seeds", devices)
    st = _start(local, mesh, optimizer(cfg), ck, manifest["settings"])
    result = TrainResult(st.models, local, [local.seed + j for j in range(local.seeds)], st.losses,
                         skipped_steps(st.opt_states).tolist(), st.val, None, len(st.compiled), st.seconds,
                         devices_used(mesh), P, st.trajectory, st.data_wait)
    best = BestValidation(st.best, st.best_scores, st.best_steps)
    result.models, result.selected_steps = best.selected(st.models, st.step)
    result = _gathered(result, cfg) if P > 1 else dataclasses.replace(result, config=cfg)
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    result.test_scores = summary.get("test_scores")
    return result


def _train_here(cfg: TrainConfig, *, progress: bool = True, trajectory_every: int = 0,
                callback=None, callback_every: int = 0, devices: int | None = None, workers: int = 0,
                checkpoint: Checkpointing | None = None, settings: dict | None = None
                ) -> tuple[TrainResult, TrainState]:
    """``train``'s loop in this process (its seeds), continuing ``checkpoint``'s state when
    it resumes and saving it as ``checkpoint`` says; returns the result and the final
    state (also saved)."""
    from ...data.batches import SeedBatches

    cfg = resolve_init(cfg)
    seeds = [cfg.seed + k for k in range(cfg.seeds)]
    from landscape.devices import devices_used, mesh_for, shard_leading

    mesh = mesh_for(cfg.seeds, "seeds", devices)  # the seed axis over the local devices
    opt = optimizer(cfg)
    st = _start(cfg, mesh, opt, checkpoint, settings)
    models, opt_states = st.models, st.opt_states
    step_fn = make_step(cfg, opt, attention_reference(cfg))
    val_batch = eval_batch(cfg, "val") if cfg.val_every else None
    losses, val, trajectory = list(st.losses), st.val, st.trajectory
    compiled_sizes = set(st.compiled)
    t0 = time.time()
    bar = tqdm(total=cfg.steps, initial=st.step, disable=not progress, desc=f"train {cfg.algo} x{cfg.seeds}",
               unit="step")
    data = SeedBatches(cfg.algo, seeds, cfg.train_lengths, cfg.steps, batch_size=cfg.batch_size,
                       random_pos=cfg.random_pos, workers=workers, start=st.step, states=st.samplers)
    saver = Saver(checkpoint)

    waited = st.data_wait  # seconds the loop spent in next(batches)

    best = BestValidation(st.best, st.best_scores, st.best_steps)

    def state(step: int) -> TrainState:
        return TrainState(step, models, opt_states, np.asarray(losses, np.float32).reshape(step, cfg.seeds), val,
                          dict(data.states), trajectory, sorted(compiled_sizes), st.seconds + time.time() - t0,
                          data_wait=waited, best=best.models, best_scores=best.scores, best_steps=best.steps)

    def save(step: int) -> None:
        barrier = (lambda: _barrier(f"state{step}")) if checkpoint.parts > 1 else None
        write_state(checkpoint, settings, state(step), barrier=barrier)
        saver.saved()

    with data, bar, Stops(checkpoint is not None and checkpoint.parts == 1) as stops:
        batches_in_order = iter(data)
        for i in range(st.step, cfg.steps):
            t = time.perf_counter()
            batches = next(batches_in_order)
            waited += time.perf_counter() - t
            n = cfg.train_lengths[i % len(cfg.train_lengths)]
            if n not in compiled_sizes:  # this step compiles: never while earlier steps still run
                jax.block_until_ready(models)
                compiled_sizes.add(n)
            models, opt_states, loss = step_fn(models, opt_states, shard_leading(batches, mesh))
            losses.append(loss)  # on the device: read back below, so the host draws ahead
            _after_step(i, cfg, models, val, val_batch, trajectory, trajectory_every, callback, callback_every)
            if best.models is not None and val and val[-1]["step"] == i + 1:
                best.update(models, val[-1]["scores"], i + 1)
            bar.update()
            if progress and (i % 10 == 9 or i + 1 == cfg.steps):
                rate = (i + 1 - st.step) * cfg.batch_size * cfg.seeds / (time.time() - t0)
                post = {"loss": f"{float(np.mean(loss)):.3f}", "graphs/s": f"{rate:.0f}",
                        "data wait": f"{(waited - st.data_wait) / (time.time() - t0):.0%}"}
                if val:
                    post["val"] = f"{np.mean(val[-1]['scores']):.3f}"
                bar.set_postfix(post, refresh=False)
            if i + 1 < cfg.steps and saver.due(i + 1, stops):
                save(i + 1)
                if stops.caught is not None:
                    raise TrainingInterrupted(i + 1, checkpoint.folder, stops.caught)
    losses = [np.asarray(x) for x in losses]
    if checkpoint is not None:  # the loop's end: resuming from here only writes the results
        save(cfg.steps)
    final = state(cfg.steps)
    kept, selected = best.selected(models, cfg.steps)
    result = TrainResult(kept, cfg, seeds, np.array(losses, np.float32).reshape(-1, cfg.seeds),
                         skipped_steps(opt_states).tolist(), val, None, len(compiled_sizes), final.seconds,
                         devices_used(mesh), trajectory=trajectory, data_wait=waited, selected_steps=selected)
    return result, final


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
        if result.selected_steps is not None:
            rec["selected_step"] = result.selected_steps[k]
        (out / f"seed{s}.json").write_text(json.dumps(rec, indent=2))
    if not summary:
        return
    run = {
        "config": cfg, "seeds": result.seeds, "test_scores": result.test_scores, "skipped_steps": result.skipped,
        "test_split": result.test_split,
        "seconds": result.seconds, "data_wait": {"seconds": result.data_wait, "fraction": result.data_wait_fraction},
        "graph_sizes_compiled": result.compiles, "devices": result.devices,
        "processes": result.processes, "select": result.config.select,
        "attention_supervision": {"weight": result.config.attention_supervision,
                                  "reference": result.config.attention_reference,
                                  "heads": result.config.supervised_heads},
        "loss_curve_mean": result.losses.mean(axis=1).tolist() if len(result.losses) else [],
    }
    if result.selected_steps is not None:  # one step, or one per seed where they differ
        steps = result.selected_steps
        run["selected_step"] = steps[0] if len(set(steps)) == 1 else steps
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
