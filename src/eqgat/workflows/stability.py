"""The stability runner (``python -m landscape stability``): retrain from the compiled
solution with R data orders and measure whether the compiled minimum survives (paper
appendix C.5, table 12 and figure 5). A training workflow; ``landscape`` hosts its command.

The paper's protocol is table 4's training (10,000 steps, Adam 1e-4, batch 32, lengths
4-16) started from the compiled parameters, at hidden size 128 "by extending the patterns"
(the program's slots first, every other weight zero). Every part of it is a setting of
``StabilityConfig``; ``noise`` σ perturbs each run's start by σ times a filter-normalised
Gaussian direction (``TrainConfig.init_noise``).

Runs are trained ``parallel`` at a time in one vmapped program (seed axis); each group's
results are written as soon as it finishes, so an interrupted sweep resumes where it
stopped, and refuses to resume under other settings (naming them). Reported per run: the
test accuracy, the distance travelled from the compiled parameters (absolute and relative
to |θ_compiled|), and φ_internal to the compiled model along training.
"""

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._settings import differences
from .training import TrainConfig


#: The ``TrainConfig`` fields a sweep sets itself (``StabilityConfig.run_config``): its
#: ``train`` config leaves them at their defaults.
_SWEEP_SETS = ("seeds", "model", "init", "init_noise")

#: ``TrainConfig`` fields that do not change a run's result (validation is off in a sweep).
_NO_EFFECT = ("val_every", "val_length")

_TRAIN_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}


@dataclass(frozen=True)
class StabilityConfig:
    """One stability sweep: ``train`` (a ``TrainConfig``: algorithm, steps, lr, batch size,
    train lengths, test length, first seed ...) run from the compiled model for runs
    ``train.seed`` .. ``train.seed + runs - 1`` (data orders, and noise keys when
    ``noise`` > 0). The sweep sets ``train``'s seeds, model, init and init_noise itself
    (``run_config``), and validates nothing (``val_every`` is not used).

    ``hidden_size``: the compiled model's size (None: the program's minimal size; the
    paper: 128); ``noise``: σ of each run's start (``TrainConfig.init_noise``); ``every``:
    φ_internal every N steps (0: steps // 5); ``scale``: the compiled constants' scale
    (``compile --scale``; None: the default); ``mechanism``: the compiled mechanism
    (``compile --mechanism``); the paper's (B = k·I) fixes the graph size to ``nodes``,
    so its runs train, test and measure φ_internal at that size only, as tables 8 and 9
    do (``train``'s lengths and test length are then ``nodes``, set by the sweep)."""

    train: TrainConfig
    runs: int = 4
    noise: float = 0.0
    every: int = 0
    scale: int | float | None = None
    hidden_size: int | None = None
    mechanism: str = "general"
    nodes: int | None = None

    def __post_init__(self):
        from ..programs import graph_programs

        if not isinstance(self.train, TrainConfig):
            raise TypeError(f"train must be a TrainConfig, got {type(self.train).__name__}")
        if self.train.algo not in (programs := graph_programs(sampled=True)):
            raise ValueError(f"no compiled program (a GraphProgram with a sampler) for {self.train.algo!r}; "
                             f"use one of {', '.join(programs)}")
        if set_here := [k for k in _SWEEP_SETS if getattr(self.train, k) != _TRAIN_DEFAULTS[k]]:
            raise ValueError(f"a stability sweep sets train.{', train.'.join(set_here)} itself: leave "
                             "them at their defaults (runs, noise and hidden_size are the sweep's)")
        if self.runs < 1 or self.noise < 0 or self.every < 0:
            raise ValueError("runs must be >= 1; noise and every >= 0")
        if self.scale is not None and not self.scale >= 1:
            raise ValueError(f"scale must be >= 1 (a multiple of the smallest constants), got {self.scale}")
        from ..compiler import CompileOptions

        CompileOptions(mechanism=self.mechanism, nodes=self.nodes)  # names a bad mechanism or size
        if self.mechanism == "paper":
            t = self.train
            if t.train_lengths not in (_TRAIN_DEFAULTS["train_lengths"], (self.nodes,)):
                raise ValueError(f"the paper's mechanism fixes the graph size to --nodes {self.nodes}: leave the "
                                 f"train lengths ({','.join(map(str, t.train_lengths))}) to the sweep")
            if t.test_length not in (None, self.nodes):
                raise ValueError(f"the paper's mechanism fixes the graph size to --nodes {self.nodes}: "
                                 f"the test length must be {self.nodes}, got {t.test_length}")

    def run_config(self, checkpoint: str | Path, group: list[int]) -> TrainConfig:
        """The ``TrainConfig`` of the runs ``group`` (consecutive seeds) from ``checkpoint``."""
        fixed = {"train_lengths": (self.nodes,), "test_length": self.nodes} if self.mechanism == "paper" else {}
        return dataclasses.replace(self.train, seed=group[0], seeds=len(group), init=str(checkpoint),
                                   init_noise=self.noise, val_every=0, **fixed)

    @property
    def graph_size(self) -> int:
        """The size φ_internal is measured at: 16, or the paper mechanism's ``nodes``."""
        return self.nodes if self.mechanism == "paper" else 16

    def settings(self) -> dict:
        """What a resumed sweep must share with the saved one (``runs`` may grow), flat:
        ``algo, steps, hidden_size, lr, batch_size, train_lengths, test_length, noise, seed,
        every, scale`` (``scale`` only when set: sweeps saved before it existed resume),
        then any other training setting that is not its default."""
        t = self.train
        out = {"algo": t.algo, "steps": t.steps, "hidden_size": self.hidden_size, "lr": t.lr,
               "batch_size": t.batch_size, "train_lengths": t.train_lengths, "test_length": t.test_length,
               "noise": self.noise, "seed": t.seed, "every": self.every, "scale": self.scale}
        if self.scale is None:
            del out["scale"]
        if self.mechanism != "general":  # (sweeps saved before it existed resume)
            out.update(mechanism=self.mechanism, nodes=self.nodes)
            out["train_lengths"], out["test_length"] = (self.nodes,), self.nodes
        for name, default in _TRAIN_DEFAULTS.items():
            if name not in out and name not in _SWEEP_SETS + _NO_EFFECT and getattr(t, name) != default:
                out[name] = getattr(t, name)
        return out


def _distance(models, compiled):
    """|θ_k - θ_compiled| per stacked run, and relative to |θ_compiled|."""
    pc = eqx.filter(compiled, eqx.is_inexact_array)
    pm = eqx.filter(models, eqx.is_inexact_array)
    d = np.asarray(jax.vmap(lambda m: optax.tree_utils.tree_norm(jax.tree.map(jnp.subtract, m, pc)))(pm))
    return d, d / float(optax.tree_utils.tree_norm(pc))


def _resume(path: Path, cfg: StabilityConfig) -> list[dict]:
    """The runs already in ``path``, or a ``ValueError`` naming each setting that differs."""
    if not path.exists():
        return []
    saved = json.loads(path.read_text())
    if said := differences(saved.get("config", {}), json.loads(json.dumps(cfg.settings())), ignore=("runs",)):
        raise ValueError(f"{path} holds a sweep made with other settings, so it is not resumed ({said}); "
                         "use another --out or the same settings")
    return saved["runs"]


def run(cfg: StabilityConfig, out: Path, *, parallel: int = 4, progress: bool = True, workers: int = 0,
        checkpoint_every: int = 1000, checkpoint_minutes: float = 10.0) -> dict:
    """Train ``cfg.runs`` runs from the compiled model, ``parallel`` at a time (``workers``
    processes drawing their batches: ``eqgat.workflows.training.train``); write ``out/stability.json``
    after each group and return the summary.

    A group trains in ``out/groups/seeds{a}-{b}/`` and saves its training state there as
    ``train`` does (``checkpoint_every`` steps, ``checkpoint_minutes``), with its
    φ_internal curve so far: a sweep stopped mid-group continues that group from its state
    (the same results as an uninterrupted sweep); its trained models stay there."""
    from tqdm.auto import tqdm

    from ..algorithms import get_algorithm
    from ..nn import save
    from ..compiler import compile_stages
    from ..data import sample_graphs
    from .faithfulness import internal
    from .training import TrainingInterrupted, initial_models, to_host, train, unstack

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "stability.json"
    done = _resume(results_path, cfg)
    algo = cfg.train.algo
    stages = compile_stages(get_algorithm(algo).program, cfg.hidden_size, scale=cfg.scale, mechanism=cfg.mechanism,
                            nodes=cfg.nodes)
    compiled = stages.build()
    ckpt = save(out / "compiled.eqx", compiled, source="compiled", program=algo,
                layout=stages.layout.to_dict())
    probe = sample_graphs(algo, cfg.graph_size, 16, seed=10_000 + cfg.train.seed)
    every = cfg.every or max(1, cfg.train.steps // 5)
    done_seeds = {r["seed"] for r in done}
    seeds = [cfg.train.seed + k for k in range(cfg.runs)]
    groups = [seeds[g: g + parallel] for g in range(0, cfg.runs, parallel)]
    for group in tqdm(groups, desc=f"stability {algo}", disable=not progress, unit="group"):
        if set(group) <= done_seeds:
            continue
        folder = out / "groups" / f"seeds{group[0]}-{group[-1]}"
        curve_path = folder / "phi_internal.json"
        # step -> value per run; a resumed group recomputes the steps after its state, equal
        curve = {int(s): {int(k): v for k, v in c.items()} for s, c in _read(curve_path, {}).items()}

        def record(step, models):
            models = to_host(models)
            for k, s in enumerate(group):
                curve.setdefault(s, {})[step] = internal(unstack(models, k), compiled, probe)["mean"]
            folder.mkdir(parents=True, exist_ok=True)
            curve_path.write_text(json.dumps(curve))

        tc = cfg.run_config(ckpt, group)
        record(0, initial_models(tc))  # at the (perturbed) compiled start
        try:
            res = train(tc, out=folder, test=True, progress=progress, callback=record, callback_every=every,
                        workers=workers, resume=True, checkpoint_every=checkpoint_every,
                        checkpoint_minutes=checkpoint_minutes)
        except TrainingInterrupted as stop:
            raise stop.continued_by("run the same command again: the sweep continues this group from there") from None
        dist, rel = _distance(res.models, compiled)
        # a group that overlaps seeds recorded by an earlier, smaller group replaces them:
        # every seed of a result then comes from one group (vmapped groups of other sizes
        # round differently, and 2,000 steps amplify that)
        done = [r for r in done if r["seed"] not in group]
        for k, s in enumerate(group):
            done.append({"seed": s, "test_score": res.test_scores[k], "distance": float(dist[k]),
                         "relative_distance": float(rel[k]), "skipped_steps": res.skipped[k],
                         "phi_internal": [{"step": t, "phi_internal": v} for t, v in sorted(curve[s].items())]})
        write(results_path, cfg, done, test_split=res.test_split)
        shutil.rmtree(folder / "state", ignore_errors=True)  # recorded: only the trained models are kept
    return summarize(done)


def _read(path: Path, default):
    """``path``'s JSON, or ``default`` when there is no such file."""
    return json.loads(path.read_text()) if path.exists() else default


def write(path: Path, cfg: StabilityConfig, done: list[dict], *, test_split: str) -> None:
    """``stability.json``: the settings, every finished run and the summary (atomically)."""
    payload = {"algorithm": cfg.train.algo, "config": {**cfg.settings(), "runs": cfg.runs}, "test_split": test_split,
               "runs": sorted(done, key=lambda r: r["seed"]), "summary": summarize(done)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)


def summarize(done: list[dict]) -> dict:
    """Mean ± std (population, as the paper's tables) of test accuracy in %, max, and the
    mean relative distance travelled."""
    t = 100 * np.array([r["test_score"] for r in done])
    d = np.array([r["relative_distance"] for r in done])
    return {"n": len(done), "test_mean": float(t.mean()) if len(t) else None, "test_std": float(t.std()) if len(t) else None,
            "test_max": float(t.max()) if len(t) else None, "relative_distance_mean": float(d.mean()) if len(d) else None}
