"""Running an experiment for a profile's seeds, resuming per seed.

Each experiment has one folder, ``OUT/runs/<key>/``, shared by every entry that uses it:
``settings.json`` (the profile and every training setting), then per finished seed
``seed{s}.eqx`` (+ ``.json``: the checkpoint's settings) and ``seed{s}.json`` (test score,
seconds, device). Seeds are trained ``profile.parallel`` at a time in one vmapped program
(seed ``s`` trains exactly what it trains alone: ``eqgat.workflows.training``); each group's
checkpoints are written before its test is scored. A folder made under other settings is
refused, naming each setting that differs. Stability experiments run
``eqgat.workflows.stability.run`` in their folder (it resumes and refuses the same way).
"""

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from .._settings import differences
from ._entries import Experiment
from ._profiles import Profile


def device_name() -> str:
    """The device the runs use, in words (a CPU with its core count)."""
    import jax

    d = jax.devices()[0]
    if d.platform == "cpu":
        return f"CPU, {os.cpu_count()} cores"
    return f"{d.device_kind} ({d.platform}) x{jax.local_device_count()}"


def train_config(exp: Experiment, profile: Profile, *, seed: int = 0, seeds: int = 1):
    """The ``TrainConfig`` of ``exp`` under ``profile``: table 4 with the experiment's
    changes, the profile's seeds, steps, hidden size, batch and (smoke) graph size."""
    from ...nn import ModelConfig
    from ..training import TrainConfig

    table4 = TrainConfig(algo=exp.algo)
    train = dict(exp.train)
    steps = profile.steps_for(exp, train.pop("steps", table4.steps))
    lengths = tuple(train.pop("train_lengths", table4.train_lengths))
    model = dict(exp.model)
    if profile.hidden_size is not None and "hidden_size" not in model:
        model["hidden_size"] = profile.hidden_size
    test_length = lengths[0] if exp.fixed_size else None
    if profile.graph_size is not None:
        lengths, test_length = (profile.graph_size,), profile.graph_size
    if model.get("use_pre_att_bias"):
        model["nb_nodes"] = lengths[0]
    return TrainConfig(algo=exp.algo, train_lengths=lengths, steps=steps, batch_size=profile.batch_size,
                       seed=seed, seeds=seeds, val_every=profile.val_every, val_length=test_length,
                       select=profile.select, test_length=test_length, model=ModelConfig(exp.algo, **model), **train)


def stability_config(exp: Experiment, profile: Profile):
    """The ``StabilityConfig`` of a stability experiment under ``profile`` (the paper's
    protocol: table 4 from the compiled model at hidden 128)."""
    from ..stability import StabilityConfig
    from ..training import TrainConfig

    cfg = train_config(exp, profile)  # seed 0 (the first run); the sweep sets the seed count itself
    # where training from the compiled model ends: no selection (a sweep validates nothing)
    train = dataclasses.replace(cfg, model=None, select="last", val_every=TrainConfig.val_every, val_length=None)
    if exp.mechanism == "paper":  # its B fixes n: the sweep sets the lengths to it
        from ...algorithms import get_algorithm
        from ...compiler import minimal_hidden_size

        nodes = cfg.train_lengths[0]
        train = dataclasses.replace(train, train_lengths=TrainConfig.train_lengths, test_length=None)
        # a profile's small hidden size (smoke: 8) may be below the mechanism's minimal one
        hidden = max(cfg.model.hidden_size, minimal_hidden_size(get_algorithm(exp.algo).program, "paper"))
        return StabilityConfig(train, runs=profile.seeds_for(exp), hidden_size=hidden, mechanism="paper",
                               nodes=nodes)
    return StabilityConfig(train, runs=profile.seeds_for(exp), hidden_size=cfg.model.hidden_size)


def settings(exp: Experiment, profile: Profile) -> dict:
    """What a resumed folder must share with this run: the profile's name and every
    setting that changes a seed's result (not the seed count, which may grow)."""
    if exp.kind == "stability":
        config = stability_config(exp, profile).settings()
    else:
        config = dataclasses.asdict(train_config(exp, profile))
        for k in ("seed", "seeds"):
            config.pop(k)
    return json.loads(json.dumps({"experiment": exp.key, "kind": exp.kind, "profile": profile.name,
                                  "config": config}))


def check_settings(folder: Path, now: dict) -> None:
    """Write ``folder/settings.json``, or refuse (``ValueError`` naming each setting that
    differs) if the folder holds runs made under other settings."""
    path = folder / "settings.json"
    if path.exists():
        if said := differences(json.loads(path.read_text()), now):
            raise ValueError(f"{folder} holds runs made with other settings, so they are not resumed ({said}); "
                             "use another --out or the same profile")
        return
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(now, indent=2))


def seed_records(folder: Path, seeds: int) -> dict[int, dict]:
    """The finished seeds (a ``seed{s}.json`` with a test score) among ``0 .. seeds - 1``."""
    done = {}
    for s in range(seeds):
        p = folder / f"seed{s}.json"
        if p.exists():
            rec = json.loads(p.read_text())
            if rec.get("test_score") is not None:
                done[s] = rec
    return done


def _groups(todo: list[int], size: int) -> list[list[int]]:
    """Consecutive seeds in groups of at most ``size`` (``train`` takes a first seed and a count)."""
    groups = []
    for s in todo:
        if groups and s == groups[-1][-1] + 1 and len(groups[-1]) < size:
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


def run_experiment(exp: Experiment, profile: Profile, out: Path, *, progress: bool = True,
                   devices: int | None = None, workers: int = 0, checkpoint_every: int = 1000,
                   checkpoint_minutes: float = 10.0) -> list[dict]:
    """Train (or resume) ``exp``'s seeds under ``profile`` in ``out/runs/<key>`` (``workers``
    processes drawing the batches); return every seed's record (``test_score``,
    ``seconds``, ``device``, ``steps``). Finished seeds are kept; a group of seeds in
    flight saves its training state every ``checkpoint_every`` steps and
    ``checkpoint_minutes`` (``train``) and continues from it."""
    folder = Path(out) / "runs" / exp.key
    check_settings(folder, settings(exp, profile))
    if exp.kind == "stability":
        return _run_stability(exp, profile, folder, progress=progress, workers=workers,
                              checkpoint_every=checkpoint_every, checkpoint_minutes=checkpoint_minutes)
    from ..training import TrainingInterrupted, eval_batch, evaluate_models, train, write_results

    seeds = profile.seeds_for(exp)
    done = seed_records(folder, seeds)
    for group in _groups([s for s in range(seeds) if s not in done], profile.parallel):
        cfg = train_config(exp, profile, seed=group[0], seeds=len(group))
        t0 = time.time()
        # a group in flight trains in its own folder, saving its state: an interrupted
        # reproduction continues it from there (the same results as an uninterrupted one)
        flight = folder / "in-flight" / f"seeds{group[0]}-{group[-1]}"
        try:
            result = train(cfg, out=flight, test=False, progress=progress, devices=devices, workers=workers,
                           resume=True, checkpoint_every=checkpoint_every, checkpoint_minutes=checkpoint_minutes)
        except TrainingInterrupted as stop:
            raise stop.continued_by("run the same command again: it continues this group from there") from None
        write_results(result, folder, summary=False)  # the checkpoints, before anything that can fail
        scores = evaluate_models(result.models, eval_batch(cfg, "test"))
        share = (time.time() - t0) / len(group)
        for s, score in zip(group, scores):
            path = folder / f"seed{s}.json"
            rec = {**json.loads(path.read_text()), "test_score": float(score), "seconds": share,
                   "device": device_name(), "steps": cfg.steps, "test_split": result.test_split}
            path.write_text(json.dumps(rec, indent=2))
            done[s] = rec
        shutil.rmtree(flight, ignore_errors=True)  # its seeds' records are written
    return [done[s] for s in range(seeds)]


def finished_records(exp: Experiment, profile: Profile, out: Path) -> list[dict]:
    """The records of ``exp``'s seeds already finished in ``out`` (none trained here), in
    seed order; a folder made under other settings is refused as by ``run_experiment``."""
    folder = Path(out) / "runs" / exp.key
    if not (folder / "settings.json").exists():
        return []
    check_settings(folder, settings(exp, profile))
    if exp.kind == "train":
        return [r for _, r in sorted(seed_records(folder, profile.seeds_for(exp)).items())]
    path = folder / "stability.json"
    if not path.exists():
        return []
    saved = json.loads(path.read_text())
    timing = folder / "timing.json"
    spent = json.loads(timing.read_text()) if timing.exists() else {}
    cfg = stability_config(exp, profile)
    return [{**r, **spent.get(str(r["seed"]), {}), "steps": cfg.train.steps, "test_split": saved["test_split"]}
            for r in saved["runs"] if r["seed"] < cfg.train.seed + cfg.runs]


def _run_stability(exp: Experiment, profile: Profile, folder: Path, *, progress: bool, workers: int,
                   checkpoint_every: int, checkpoint_minutes: float) -> list[dict]:
    from .. import stability

    cfg = stability_config(exp, profile)
    timing = folder / "timing.json"
    spent = json.loads(timing.read_text()) if timing.exists() else {}
    t0 = time.time()
    saved_path = folder / "stability.json"
    before = json.loads(saved_path.read_text())["runs"] if saved_path.exists() else []
    stability.run(cfg, folder, parallel=profile.parallel, progress=progress, workers=workers,
                  checkpoint_every=checkpoint_every, checkpoint_minutes=checkpoint_minutes)
    saved = json.loads(saved_path.read_text())
    if len(saved["runs"]) > len(before):  # time the runs this call trained, per run
        share = (time.time() - t0) / (len(saved["runs"]) - len(before))
        for r in saved["runs"]:
            spent.setdefault(str(r["seed"]), {"seconds": share, "device": device_name()})
        timing.write_text(json.dumps(spent, indent=2))
    return finished_records(exp, profile, folder.parent.parent)  # a folder may hold more runs (--seeds)


#: A seed is "still improving" when its best validation score came in the last tenth of its steps.
IMPROVING_TAIL = 0.1


def still_improving(record: dict) -> bool | None:
    """Whether a seed's best validation score came in the last ``IMPROVING_TAIL`` of its
    steps (its training had not levelled off); None without a validation history."""
    val, steps = record.get("val") or [], record.get("steps")
    if not val or not steps:
        return None
    best = max(val, key=lambda v: (v["score"], -v["step"]))  # the first step that reached the best score
    return best["step"] >= (1 - IMPROVING_TAIL) * steps


def summary(records: list[dict]) -> dict:
    """Mean ± std (population, as the paper's tables) and max of the test scores in %,
    seeds, steps, seconds (summed over seeds), the devices, and how many seeds were still
    improving at the end (``still_improving``; of ``validated`` seeds with a history)."""
    t = 100 * np.array([r["test_score"] for r in records], float)
    improving = [still_improving(r) for r in records]
    return {"mean": float(t.mean()), "std": float(t.std()), "max": float(t.max()), "n": len(t),
            "improving": sum(1 for v in improving if v), "validated": sum(1 for v in improving if v is not None),
            "scores": t.round(4).tolist(), "steps": sorted({r.get("steps") for r in records} - {None}),
            "seconds": float(sum(r.get("seconds", 0.0) for r in records)),
            "devices": sorted({r.get("device") for r in records} - {None}),
            "test_split": sorted({r.get("test_split") for r in records} - {None})}
