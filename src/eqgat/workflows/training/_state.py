"""A training run's whole state on disk, so that a killed run loses nothing.

``OUT/state/`` holds, for the last step saved, one part per process (a single process
writes part 0):

- ``step{i}-part{k}.eqx``: the stacked models and optimiser states
  (``eqx.tree_serialise_leaves``);
- ``step{i}-part{k}.npz``: the losses so far, ``[steps, seeds]``, and the trajectory's
  snapshots;
- ``step{i}-part{k}.json``: every data sampler's state (as of the last batch the loop
  consumed) and the validation history;
- ``state.json``, written last and by rename: the step, the run's settings, the parts.
  A state is complete when ``state.json`` names it; the files of older steps are removed
  after it.

A resumed run (``train(..., resume=True)``) first compares its settings with the saved
ones and refuses any difference by name; it then continues the same stream of batches,
so that it ends bit-identical to a run that was never interrupted (on the same machine
and device count).
"""

import dataclasses
import json
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from .._settings import differences

STATE_JSON = "state.json"
FORMAT = "eqgat-train-state-v1"


class TrainingInterrupted(Exception):
    """A run stopped by SIGINT or SIGTERM after writing its state (``signum``: which).
    Its message says how to resume."""

    def __init__(self, step: int, folder: Path, signum: int,
                 how: str = "run the same command with --resume to continue from there"):
        self.step, self.folder, self.signum = step, folder, signum
        super().__init__(f"training stopped by {signal.Signals(signum).name} after step {step}; its state is in "
                         f"{folder}/: {how}")

    def continued_by(self, how: str) -> "TrainingInterrupted":
        """The same stop, saying that ``how`` continues it (a workflow that resumes by itself)."""
        return TrainingInterrupted(self.step, self.folder, self.signum, how)


@dataclass(frozen=True)
class Checkpointing:
    """Where and how often ``train`` saves its state.

    **Arguments:**

    - `folder`: the state's folder (``OUT/state``).
    - `every`: save every N steps (0: never by count).
    - `minutes`: and whenever this much wall time passed since the last save (0: never by
      time; a run of several processes saves by count only, as every process must save at
      the same step).
    - `resume`: continue from the state in ``folder`` (a fresh start when there is none).
    - `part`, `parts`: this process's index and the number of processes.
    """

    folder: Path
    every: int = 1000
    minutes: float = 10.0
    resume: bool = False
    part: int = 0
    parts: int = 1

    def __post_init__(self):
        if self.every < 0 or not self.minutes >= 0:
            raise ValueError(f"checkpoint every {self.every} steps / {self.minutes} minutes: both must be >= 0")


@dataclass
class TrainState:
    """What a training loop needs to continue at ``step`` (steps done)."""

    step: int
    models: object  # stacked models (leading seed axis)
    opt_states: object
    losses: np.ndarray  # [step, seeds]
    val: list = field(default_factory=list)
    samplers: dict = field(default_factory=dict)  # SeedBatches.states
    trajectory: list = field(default_factory=list)  # parameter snapshots (stacked pytrees)
    compiled: list = field(default_factory=list)  # graph sizes compiled
    seconds: float = 0.0  # wall time spent before this process started
    finished: bool = False
    data_wait: float = 0.0  # of ``seconds``, the loop's wait for its batches
    best: object = None  # select="best_val": each seed's parameters at its best validation score (stacked)
    best_scores: list = field(default_factory=list)  # ... that score per seed (None: not validated yet)
    best_steps: list = field(default_factory=list)  # ... and its step


def settings_of(cfg, **extra) -> dict:
    """The settings a state must agree with to be resumed: every ``TrainConfig`` field
    (as JSON values) and ``extra`` (e.g. the trajectory period, the process count)."""
    return json.loads(json.dumps({**dataclasses.asdict(cfg), **extra}, default=str))


def _name(step: int, part: int) -> str:
    return f"step{step}-part{part}"


def read_manifest(folder: Path) -> dict | None:
    """``state.json`` of ``folder`` (None when there is no complete state)."""
    path = Path(folder) / STATE_JSON
    return json.loads(path.read_text()) if path.exists() else None


def check_resumable(folder: Path, settings: dict) -> dict | None:
    """The manifest of the complete state in ``folder``, or None when there is none; a
    ``ValueError`` naming every setting that differs from ``settings``."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{folder}/{STATE_JSON} is not an eqgat training state")
    if said := differences(manifest["settings"], settings):
        raise ValueError(f"{folder} holds a training state made with other settings, so it is not resumed "
                         f"({said}); resume with the same settings, or train into another --out")
    return manifest


def write_state(ck: Checkpointing, settings: dict, st: TrainState, *, barrier=None) -> None:
    """Save ``st`` as part ``ck.part`` of ``ck.folder``'s state: this part's files, then
    (after ``barrier()``, which waits for every process's part) part 0 writes ``state.json``
    by rename and removes older steps' files."""
    folder = ck.folder
    folder.mkdir(parents=True, exist_ok=True)
    name = _name(st.step, ck.part)
    host = jax.tree.map(lambda x: np.asarray(x) if eqx.is_array(x) else x, (st.models, st.opt_states, st.best))
    _atomic(folder / f"{name}.eqx", lambda p: eqx.tree_serialise_leaves(p, host))
    arrays = {"losses": np.asarray(st.losses, np.float32)}  # [step, seeds]
    for j, snap in enumerate(st.trajectory):
        for k, leaf in enumerate(jax.tree.leaves(snap)):
            arrays[f"trajectory/{j}/{k}"] = np.asarray(leaf)
    _atomic(folder / f"{name}.npz", lambda p: np.savez(p, **arrays))
    part = {"val": st.val, "samplers": st.samplers, "snapshots": len(st.trajectory), "best": st.best is not None,
            "best_scores": st.best_scores, "best_steps": st.best_steps}
    _atomic(folder / f"{name}.json", lambda p: p.write_text(json.dumps(part)))
    if barrier is not None:
        barrier()
    if ck.part:
        return
    manifest = {"format": FORMAT, "step": st.step, "parts": ck.parts, "settings": settings,
                "compiled": sorted(st.compiled), "seconds": st.seconds, "finished": st.finished,
                "data_wait": st.data_wait}
    _atomic(folder / STATE_JSON, lambda p: p.write_text(json.dumps(manifest, indent=2)))
    for old in folder.glob("step*-part*.*"):
        if not old.name.startswith(f"step{st.step}-"):
            old.unlink(missing_ok=True)


def mark_finished(folder: Path) -> None:
    """Mark the state in ``folder`` as that of a finished run (its results written): a
    resumed run then changes nothing."""
    manifest = read_manifest(folder)
    _atomic(Path(folder) / STATE_JSON, lambda p: p.write_text(json.dumps({**manifest, "finished": True}, indent=2)))


def read_state(ck: Checkpointing, manifest: dict, models, opt_states) -> TrainState:
    """Part ``ck.part`` of the state ``manifest`` names (``models`` and ``opt_states``: the
    run's initial ones, as the template the saved leaves are read into)."""
    if manifest["parts"] != ck.parts:
        raise ValueError(f"{ck.folder} holds the state of a run of {manifest['parts']} process(es), not {ck.parts}")
    name = _name(manifest["step"], ck.part)
    part = json.loads((ck.folder / f"{name}.json").read_text())
    template = (models, opt_states, models if part["best"] else None)
    models, opt_states, best = eqx.tree_deserialise_leaves(ck.folder / f"{name}.eqx", template)
    with np.load(ck.folder / f"{name}.npz") as arrays:
        losses = arrays["losses"]
        params = eqx.filter(models, eqx.is_inexact_array)
        structure, n = jax.tree.structure(params), len(jax.tree.leaves(params))
        trajectory = [jax.tree.unflatten(structure, [arrays[f"trajectory/{j}/{k}"] for k in range(n)])
                      for j in range(part["snapshots"])]
    return TrainState(manifest["step"], models, opt_states, losses, part["val"], part["samplers"], trajectory,
                      manifest["compiled"], manifest["seconds"], manifest["finished"], manifest["data_wait"], best,
                      part["best_scores"], part["best_steps"])


def _atomic(path: Path, write) -> None:
    """``write(tmp)`` then rename ``tmp`` to ``path``: ``path`` is never half written."""
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    write(tmp)
    tmp.replace(path)


class Stops:
    """Within ``with Stops(active):``, SIGINT and SIGTERM are caught and remembered
    (``caught``) for the training loop to finish its step, save and stop; a second one
    stops at once. Inactive (no handlers) outside the main thread or when ``active`` is
    False."""

    def __init__(self, active: bool = True):
        self.active = active and threading.current_thread() is threading.main_thread()
        self.caught: int | None = None
        self._before = {}

    def _handle(self, signum, frame):
        if self.caught is not None:  # asked twice: stop now
            signal.signal(signum, self._before.get(signum, signal.SIG_DFL))
            raise KeyboardInterrupt
        self.caught = signum
        print(f"\n{signal.Signals(signum).name}: finishing this step and saving the state "
              "(send it again to stop at once)", flush=True)

    def __enter__(self):
        if self.active:
            for s in (signal.SIGINT, signal.SIGTERM):
                self._before[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc):
        for s, h in self._before.items():
            signal.signal(s, h)
        self._before = {}


class Saver:
    """When to save: every ``ck.every`` steps, or ``ck.minutes`` of wall time after the
    last save (single process only), or on a caught signal."""

    def __init__(self, ck: Checkpointing | None):
        self.ck, self._last = ck, time.time()

    def due(self, step: int, stops: Stops) -> bool:
        ck = self.ck
        if ck is None:
            return False
        by_count = ck.every and step % ck.every == 0
        by_time = ck.parts == 1 and ck.minutes and time.time() - self._last >= 60 * ck.minutes
        return bool(by_count or by_time or stops.caught is not None)

    def saved(self) -> None:
        self._last = time.time()
