"""A killed training run loses nothing: its periodic state, a resume that ends bit-identical
to an uninterrupted run, SIGTERM's save-and-stop, and refusals of changed settings."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

# a tiny run: two seeds, two graph sizes, validation and a trajectory, so that every part
# of the state (samplers of each size, optimiser states, history, snapshots) is exercised
RUN = ["train", "--algo", "bfs", "--seeds", "2", "--batch-size", "4", "--train-lengths", "4,5",
       "--hidden-size", "16", "--val-every", "7", "--val-length", "5", "--test-length", "5",
       "--trajectory-every", "50"]
SRC = str(Path(__file__).resolve().parents[1] / "src")


def _cli(args: list[str], **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC, "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen([sys.executable, "-m", "eqgat", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _run(args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    p = _cli(args)
    out, err = p.communicate(timeout=timeout)
    return subprocess.CompletedProcess(args, p.returncode, out, err)


def _state(out: Path) -> dict | None:
    path = out / "state" / "state.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _wait_for_state(p: subprocess.Popen, out: Path, step: int, timeout: float = 240) -> dict:
    """Poll until ``out``'s saved state has reached ``step`` (the process still running)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        st = _state(out)
        if st is not None and st["step"] >= step:
            return st
        if p.poll() is not None:
            raise AssertionError(f"the run ended (exit {p.returncode}) before saving step {step}: {p.stderr.read()}")
        time.sleep(0.005)
    raise AssertionError(f"no state at step {step} after {timeout} s")


def _records(out: Path) -> dict[str, bytes]:
    """Every file the run wrote (but its state), wall times removed from summary.json."""
    files = {}
    for f in sorted(out.iterdir()):
        if f.is_file():
            data = f.read_bytes()
            if f.name == "summary.json":
                d = json.loads(data)
                d.pop("seconds"), d.pop("data_wait")  # wall times
                data = json.dumps(d, sort_keys=True).encode()
            files[f.name] = data
    return files


def test_a_killed_run_resumes_to_the_uninterrupted_runs_bits(tmp_path):
    steps = 400
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    args = RUN + ["--steps", str(steps), "--checkpoint-every", "5"]
    # killed with SIGKILL past its first periodic state; its batches drawn ahead by a worker
    p = _cli(args + ["--out", str(killed), "--workers", "1"])
    try:
        at = _wait_for_state(p, killed, 10)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        p.kill()
    assert p.returncode == -signal.SIGKILL
    assert 10 <= at["step"] < steps and not at["finished"], at
    assert not (killed / "summary.json").exists()

    resumed = _run(args + ["--out", str(killed), "--resume"])
    assert resumed.returncode == 0, resumed.stderr
    uninterrupted = _run(args + ["--out", str(whole)])
    assert uninterrupted.returncode == 0, uninterrupted.stderr

    a, b = _records(whole), _records(killed)
    assert sorted(a) == sorted(b)
    assert {"seed0.eqx", "seed1.eqx", "summary.json", "trajectory.npz"} <= set(a)
    for name in a:
        assert a[name] == b[name], f"{name} differs between the uninterrupted and the resumed run"
    summary = json.loads(a["summary.json"])
    assert len(summary["loss_curve_mean"]) == steps and all(s is not None for s in summary["test_scores"])
    assert _state(killed)["finished"] and _state(killed)["step"] == steps

    # resuming the finished run changes nothing, and exits 0
    before = {f: f.stat().st_mtime_ns for f in killed.rglob("*") if f.is_file()}
    again = _run(args + ["--out", str(killed), "--resume"])
    assert again.returncode == 0, again.stderr
    assert {f: f.stat().st_mtime_ns for f in killed.rglob("*") if f.is_file()} == before

    # ... unless a setting differs: that is refused first, by name
    other = _run(args[:-2] + ["--checkpoint-every", "5", "--out", str(killed), "--resume", "--lr", "0.001"])
    assert other.returncode == 2
    assert "lr: 0.0001 there, 0.001 now" in other.stderr


def test_sigterm_saves_the_state_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    p = _cli(RUN + ["--steps", "100000", "--checkpoint-every", "3", "--out", str(out)])
    try:
        _wait_for_state(p, out, 3)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=120)
    finally:
        p.kill()
    assert p.returncode == 128 + signal.SIGTERM, err
    assert "SIGTERM" in err and "--resume" in err
    st = _state(out)
    assert st is not None and not st["finished"] and 3 <= st["step"] < 100000
    assert f"after step {st['step']}" in err  # the state saved is the step it stopped at
    assert {f.name for f in (out / "state").iterdir()} == {
        "state.json", f"step{st['step']}-part0.eqx", f"step{st['step']}-part0.npz", f"step{st['step']}-part0.json"}

    # a resume with another learning rate is refused, naming it, and trains nothing
    refused = _run(RUN + ["--steps", "100000", "--checkpoint-every", "3", "--out", str(out), "--resume",
                          "--lr", "0.01"], timeout=120)
    assert refused.returncode == 2
    assert "lr: 0.0001 there, 0.01 now" in refused.stderr
    assert _state(out) == st
    # and a run into the folder without --resume is refused too
    fresh = _run(RUN + ["--steps", "100000", "--out", str(out)], timeout=120)
    assert fresh.returncode != 0 and "--resume" in fresh.stderr


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash_at,select", [(2, "last"), (5, "last"), (5, "best_val")])
def test_a_crashed_run_resumes_from_any_step(tmp_path, crash_at, select):
    """A run that dies (an exception, here from its callback) at ``crash_at`` resumes from
    the state saved the step before: before every graph size was drawn (2) and after (5),
    to the uninterrupted run's models, losses and validation history."""
    import equinox as eqx
    import jax

    import eqgat
    from eqgat.workflows.training import TrainConfig, read_manifest, train

    cfg = TrainConfig(algo="bellman_ford", steps=7, seeds=2, batch_size=3, train_lengths=(4, 5, 6), val_every=2,
                      val_length=4, lr=3e-3, select=select, model=eqgat.ModelConfig("bellman_ford", hidden_size=8))
    whole = train(cfg, out=tmp_path / "whole", test=False, progress=False)

    def crash(step, models):
        if step == crash_at:
            raise Crash

    out = tmp_path / "crashed"
    with pytest.raises(Crash):
        train(cfg, out=out, test=False, progress=False, checkpoint_every=1, callback=crash, callback_every=1)
    assert read_manifest(out / "state")["step"] == crash_at - 1
    resumed = train(cfg, out=out, test=False, progress=False, checkpoint_every=1, resume=True)
    params = lambda r: jax.tree.leaves(eqx.filter(r.models, eqx.is_inexact_array))  # noqa: E731
    for x, y in zip(params(whole), params(resumed), strict=True):
        assert np.array_equal(np.asarray(x), np.asarray(y))
    assert np.array_equal(whole.losses, resumed.losses) and whole.val == resumed.val
    assert whole.skipped == resumed.skipped and whole.compiles == resumed.compiles
    assert whole.selected_steps == resumed.selected_steps


def test_bad_checkpoint_settings_are_refused():
    from eqgat.workflows.training import Checkpointing

    with pytest.raises(ValueError, match="must be >= 0"):
        Checkpointing(Path("x"), every=-1)


def _stop_at_state(p: subprocess.Popen, folder: Path, step: int) -> tuple[dict, str]:
    """SIGTERM ``p`` once ``folder``'s state reached ``step``; the state then, and stderr."""
    try:
        at = _wait_for_state(p, folder, step)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=120)
    finally:
        p.kill()
    return at, err


def test_a_stopped_stability_sweep_continues_its_group_from_its_state(tmp_path):
    steps = 300
    sweep = ["-m", "landscape", "stability", "--algo", "bfs", "--runs", "2", "--parallel", "2", "--steps", str(steps),
             "--batch-size", "4", "--train-lengths", "4,5", "--test-length", "5", "--every", "40",
             "--checkpoint-every", "5"]
    out, whole = tmp_path / "stopped", tmp_path / "whole"
    p = subprocess.Popen([sys.executable, *sweep, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env={**os.environ, "PYTHONPATH": SRC, "JAX_PLATFORMS": "cpu"})
    group = out / "groups" / "seeds0-1"
    _, err = _stop_at_state(p, group, 5)
    assert p.returncode == 128 + signal.SIGTERM, err
    assert "run the same command again" in err
    st = _state(group)
    assert st is not None and st["step"] < steps and not (out / "stability.json").exists()

    cont = subprocess.run([sys.executable, *sweep, "--out", str(out)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": SRC, "JAX_PLATFORMS": "cpu"})
    assert cont.returncode == 0, cont.stderr
    assert f"{st['step']}/{steps}" in cont.stderr  # the group's progress starts at its state, not at 0
    once = subprocess.run([sys.executable, *sweep, "--out", str(whole)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": SRC, "JAX_PLATFORMS": "cpu"})
    assert once.returncode == 0, once.stderr
    assert json.loads((out / "stability.json").read_text()) == json.loads((whole / "stability.json").read_text())
    assert not (group / "state").exists() and (group / "seed0.eqx").exists()


def test_a_larger_group_replaces_the_seeds_an_earlier_smaller_one_recorded(tmp_path):
    """A sweep grown from 1 run to 2 retrains seed 0 in the new group of two: the record
    holds each seed once, both from that group (not seed 0 twice)."""
    sweep = ["-m", "landscape", "stability", "--algo", "bfs", "--steps", "10", "--batch-size", "4",
             "--train-lengths", "4,5", "--test-length", "5", "--out", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": SRC, "JAX_PLATFORMS": "cpu"}
    for runs in ("1", "2"):
        done = subprocess.run([sys.executable, *sweep, "--runs", runs, "--parallel", runs], capture_output=True,
                              text=True, timeout=600, env=env)
        assert done.returncode == 0, done.stderr
    runs = json.loads((tmp_path / "stability.json").read_text())["runs"]
    assert [r["seed"] for r in runs] == [0, 1]


def test_a_stopped_reproduction_continues_its_seed_group_from_its_state(tmp_path):
    code = ("import dataclasses, sys; from pathlib import Path; "
            "from eqgat.workflows.reproduce import get_entry, get_profile, run_experiment; "
            "p = dataclasses.replace(get_profile('smoke'), min_steps=300); "
            "exp = get_entry('table5').experiments[0]; "
            "run_experiment(exp, p, Path(sys.argv[1]), progress=False, checkpoint_every=5); print(exp.key)")
    out, whole = tmp_path / "stopped", tmp_path / "whole"
    p = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env={**os.environ, "PYTHONPATH": SRC, "JAX_PLATFORMS": "cpu"})
    runs = out / "runs"
    t0 = time.time()
    while not list(runs.glob("*/in-flight/seeds0-1")) and time.time() - t0 < 240 and p.poll() is None:
        time.sleep(0.01)
    (flight,) = runs.glob("*/in-flight/seeds0-1")
    _, err = _stop_at_state(p, flight, 5)
    assert "TrainingInterrupted" in err and "run the same command again" in err
    st = _state(flight)
    assert st is not None and st["step"] < 300 and not list(flight.parent.parent.glob("seed*.json"))

    for folder in (out, whole):
        done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=600,
                              env={**os.environ, "PYTHONPATH": SRC, "JAX_PLATFORMS": "cpu"})
        assert done.returncode == 0, done.stderr
    key = flight.parent.parent.name
    for s in (0, 1):
        a, b = (json.loads((f / "runs" / key / f"seed{s}.json").read_text()) for f in (out, whole))
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
        assert (out / "runs" / key / f"seed{s}.eqx").read_bytes() == (whole / "runs" / key / f"seed{s}.eqx").read_bytes()
    assert not flight.exists()


def test_best_validation_selection_keeps_each_seeds_best_parameters(tmp_path):
    """``select="best_val"``: each seed's models are those of its first best validation
    score (checked against snapshots taken at every validation), recorded as
    ``selected_step``; a run resumed from a state mid-run selects the same."""
    import equinox as eqx
    import jax

    import eqgat
    from eqgat.workflows.training import TrainConfig, to_host, train, unstack

    cfg = TrainConfig(algo="bfs", steps=12, seeds=3, batch_size=4, train_lengths=(4, 5), val_every=2, val_length=5,
                      lr=3e-3, select="best_val", model=eqgat.ModelConfig("bfs", hidden_size=8))
    snaps = {}
    res = train(cfg, out=tmp_path / "run", test=False, progress=False, checkpoint_every=5,
                callback=lambda step, m: snaps.__setitem__(step, to_host(m)), callback_every=2)
    scores = np.array([v["scores"] for v in res.val])  # [validations, seeds]
    steps = [v["step"] for v in res.val]
    assert steps == [2, 4, 6, 8, 10, 12]
    want = [steps[int(np.argmax(scores[:, k]))] for k in range(3)]  # argmax: the first of equal scores
    assert res.selected_steps == want
    params = lambda m: jax.tree.leaves(eqx.filter(m, eqx.is_inexact_array))  # noqa: E731
    for k in range(3):
        for x, y in zip(params(unstack(to_host(res.models), k)), params(unstack(snaps[want[k]], k)), strict=True):
            assert np.array_equal(np.asarray(x), np.asarray(y))
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["select"] == "best_val"
    assert summary["selected_step"] == (want[0] if len(set(want)) == 1 else want)
    for k in range(3):
        assert json.loads((tmp_path / "run" / f"seed{k}.json").read_text())["selected_step"] == want[k]
    if len(set(want)) == 1:  # an integer when every seed kept the same step
        assert isinstance(summary["selected_step"], int)

    with pytest.raises(ValueError, match="val_every > 0"):
        TrainConfig(algo="bfs", select="best_val", val_every=0)
    with pytest.raises(ValueError, match="select must be one of last, best_val"):
        TrainConfig(algo="bfs", select="best")


@pytest.mark.parametrize("algo,n", [("bfs", 5), ("bellman_ford", 16), ("dfs", 7), ("bfs", 40)])
def test_a_samplers_state_continues_its_batches_although_it_drew_ahead(algo, n):
    """A sampler draws and traces graphs ahead of the batches it hands out (small graphs);
    its saved state is that of the batches handed out, so a sampler restored from it
    continues with the very batches the saved one hands out next."""
    from eqgat.data import Sampler

    a = Sampler(algo, n, 4, seed=11)
    for draws in range(7):
        st = json.loads(json.dumps(a.state()))  # through JSON, as a training state stores it
        b = Sampler(algo, n, 4, seed=999)  # another seed: everything comes from the state
        b.set_state(st)
        for _ in range(3):
            x, y = a.next_arrays(), b.next_arrays()
            for part in ("inputs", "hints", "outputs"):
                for k in getattr(x, part):
                    assert np.array_equal(getattr(x, part)[k], getattr(y, part)[k]), (draws, part, k)
            assert np.array_equal(x.lengths, y.lengths)


def test_a_state_saved_before_samplers_drew_ahead_still_resumes():
    """A training state written before samplers drew ahead has no ``skip`` (its
    RandomState is already at the next graph): it resumes the same batches as a state
    taken where nothing was drawn ahead (a fresh sampler's)."""
    from eqgat.data import Sampler

    fresh = Sampler("bfs", 7, 4, seed=3)
    st = json.loads(json.dumps(fresh.state()))
    assert st["graphs"]["skip"] == 0
    old = {**st, "graphs": {k: v for k, v in st["graphs"].items() if k != "skip"}}
    a, b = Sampler("bfs", 7, 4, seed=99), Sampler("bfs", 7, 4, seed=98)
    a.set_state(st)
    b.set_state(old)
    for _ in range(2):
        x, y = a.next_arrays(), b.next_arrays()
        assert all(np.array_equal(x.hints[k], y.hints[k]) for k in x.hints)
