"""Faithfulness metrics and the stability runner."""

import json

import equinox as eqx
import jax
import numpy as np
import pytest

import eqgat
from eqgat import data, programs
from eqgat.workflows.faithfulness import attention, correlation, external, internal


def _batch(algo="bfs"):
    return data.Sampler(algo, 10, 8, seed=4, random_pos=False, p=(0.4,)).next()


def test_internal_distance_of_the_compiled_model_to_itself_is_zero_and_grows_with_noise():
    compiled = eqgat.compile_program(programs.bfs, 4)
    batch = _batch()
    assert internal(compiled, compiled, batch)["mean"] == 0.0
    leaves, tree = jax.tree.flatten(eqx.filter(compiled, eqx.is_inexact_array))
    keys = jax.random.split(jax.random.key(0), len(leaves))
    noisy = eqx.combine(jax.tree.unflatten(tree, [x * (1 + 0.5 * jax.random.normal(k, x.shape)) for x, k in zip(leaves, keys)]), compiled)
    assert internal(noisy, compiled, batch)["mean"] > 0.0
    learned = eqgat.Model(eqgat.ModelConfig("bfs", 8, nb_heads=2), key=jax.random.key(1))  # several heads: best one reported
    res = internal(learned, compiled, batch)
    assert res["per_head"].shape == (2, 16) and res["best_head"] in (0, 1)
    # by hand: per step, Σ |α̂_h - α*| over the edges and self pairs / their count; the
    # mean over live steps (t < length - 1) per learned head h; the closest head's
    a_hat, a_star = attention(learned, batch), attention(compiled, batch)  # [b, T-1, heads, n, n]
    n, L = a_hat.shape[-1], np.asarray(batch.length)
    pairs = (np.asarray(batch.inputs["adj"]) + np.eye(n)[None]) > 0
    per_head = []
    for h in range(2):
        values = [np.abs(a_hat[g, t, h] - a_star[g, t, 0])[pairs[g]].sum() / pairs[g].sum()
                  for g in range(batch.batch_size) for t in range(a_hat.shape[1]) if t < L[g] - 1]
        per_head.append(np.mean(values))
    assert res["best_head"] == int(np.argmin(per_head))
    np.testing.assert_allclose(res["mean"], min(per_head), rtol=1e-5)
    assert min(per_head) > 0.01  # a random model's attention is not the compiled one's


def test_external_accuracy_of_the_compiled_model_is_one_at_every_step():
    for algo in ("bfs", "bellman_ford"):
        ext = external(eqgat.compile_program(programs.PROGRAMS[algo]), _batch(algo))
        for name, curve in ext.items():
            finite = curve[np.isfinite(curve)]
            assert finite.size and np.all(finite == 1.0), (algo, name, curve)


def test_time_bins_never_leave_the_first_bin_empty():
    from eqgat.workflows.faithfulness import time_bins

    batch = _batch()
    bidx = time_bins(batch, 16)
    L = np.asarray(batch.length).astype(int)
    for g in range(batch.batch_size):  # every trace: first step in bin 0, last in bin 15 (a one-step trace: 0)
        live = bidx[g][bidx[g] >= 0]
        assert len(live) == L[g] - 1 and live[0] == 0 and np.all(np.diff(live) >= 0)
        assert live[-1] == (15 if L[g] > 2 else 0)


def test_faithfulness_on_clrs_splits_for_bellman_ford(tmp_path):
    from eqgat.workflows.faithfulness import run

    ckpts = tmp_path / "bf"
    ckpts.mkdir()
    eqgat.save(ckpts / "seed0.eqx", eqgat.compile_program(programs.bellman_ford), source="compiled")
    s = run(ckpts, "bellman_ford", tmp_path / "out", split="val", length=8)
    assert s["eval"] == {"split": "val", "nb_nodes": 8, "graphs": 32}
    row = s["seeds"][0]
    assert row["internal_mean"] == 0.0 and np.isfinite(row["internal"][0])  # the first bin is filled
    assert all(v == 1.0 for c in row["external_steps"].values() for v in c if v == v)  # exact at every step


def test_correlation_interval():
    x, y = [1, 2, 3, 4, 5, 6], [1.1, 1.9, 3.2, 3.9, 5.1, 6.0]
    c = correlation(x, y)
    r = np.corrcoef(x, y)[0, 1]
    z, se = np.arctanh(r), 1 / np.sqrt(len(x) - 3)  # Fisher's z interval, by hand
    np.testing.assert_allclose(c["r"], r, rtol=1e-12)
    np.testing.assert_allclose(c["ci95"], [np.tanh(z - 1.959964 * se), np.tanh(z + 1.959964 * se)], rtol=1e-5)
    assert 0 < c["p"] < 1e-3
    assert np.isnan(correlation([1, 2], [3, 4])["r"])


def test_stability_with_zero_steps_reports_the_compiled_accuracy(tmp_path):
    from eqgat.workflows.stability import StabilityConfig, run
    from eqgat.workflows.training import TrainConfig

    cfg = StabilityConfig(TrainConfig("bfs", steps=0, test_length=16), runs=2)
    s = run(cfg, tmp_path, parallel=2, progress=False)
    assert s["test_mean"] == 100.0 and s["relative_distance_mean"] == 0.0
    saved = json.loads((tmp_path / "stability.json").read_text())
    assert [r["seed"] for r in saved["runs"]] == [0, 1] and "n=16" in saved["test_split"]
    assert saved["runs"][0]["phi_internal"][0]["phi_internal"] == 0.0
    # resuming a finished sweep does no work and keeps the results
    assert run(cfg, tmp_path, parallel=2, progress=False) == s
    # a resume under other settings is refused, naming each setting that differs
    with pytest.raises(ValueError, match=r"lr: 0.0001 there, 0.001 now; steps: 0 there, 5 now"):
        run(StabilityConfig(TrainConfig("bfs", steps=5, lr=1e-3, test_length=16), runs=2), tmp_path, parallel=2, progress=False)
    # one setting changed: the refusal names it alone, before any training
    with pytest.raises(ValueError, match=r"\(lr: 0.0001 there, 0.001 now\)"):
        run(StabilityConfig(TrainConfig("bfs", steps=0, lr=1e-3, test_length=16), runs=2), tmp_path, parallel=2,
            progress=False)


def test_a_stability_run_of_two_groups_compiles_its_training_step_once(tmp_path, no_compile_cache):
    """Each group of runs is a ``train`` call; the step is one module-level jitted function
    whose settings are static arguments, so the second group reuses the first's program
    (counted from jax's compile events, by the step's name)."""
    from collections import Counter

    from eqgat.workflows.stability import StabilityConfig, run
    from eqgat.workflows.training import TrainConfig, train_step

    compiles = Counter()

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles[kwargs.get("fun_name")] += 1

    cfg = StabilityConfig(TrainConfig("bfs", steps=2, train_lengths=(5,), batch_size=2, test_length=8), runs=2)
    jax.clear_caches()  # an earlier test in this process may have compiled this very step already
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        s = run(cfg, tmp_path, parallel=1, progress=False)  # groups [0] and [1], one graph size
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert s["n"] == 2
    assert compiles[f"jit({train_step.__name__})"] == 1


def test_stability_config_holds_a_train_config_and_records_flat_settings():
    from eqgat.workflows.stability import StabilityConfig
    from eqgat.workflows.training import TrainConfig

    cfg = StabilityConfig(TrainConfig("bfs", steps=7, lr=1e-3), runs=3, noise=0.1, hidden_size=8)
    # the keys of sweeps already on disk, in their order (scale only when set)
    assert list(cfg.settings()) == ["algo", "steps", "hidden_size", "lr", "batch_size", "train_lengths",
                                    "test_length", "noise", "seed", "every"]
    assert cfg.settings()["lr"] == 1e-3 and cfg.settings()["steps"] == 7
    # another training setting is recorded only when it is not its default
    assert StabilityConfig(TrainConfig("bfs", regularization_weight=0.5)).settings()["regularization_weight"] == 0.5
    run = cfg.run_config("c.eqx", [4, 5])
    assert (run.seed, run.seeds, run.init, run.init_noise, run.val_every, run.lr) == (4, 2, "c.eqx", 0.1, 0, 1e-3)
    with pytest.raises(ValueError, match="sets train.init itself"):
        StabilityConfig(TrainConfig("bfs", init="x.eqx"))
    with pytest.raises(ValueError, match="no compiled program"):
        StabilityConfig(TrainConfig("dfs"))


def test_stability_at_another_scale_starts_from_smaller_constants(tmp_path):
    """``scale`` compiles the start with smaller constants (still exact at step 0); a sweep
    saved without it resumes, one at another scale is refused by name."""
    from eqgat import load
    from eqgat.workflows.stability import StabilityConfig, run
    from eqgat.workflows.training import TrainConfig

    assert "scale" not in StabilityConfig(TrainConfig("bfs")).settings()  # sweeps saved before scale existed resume
    with pytest.raises(ValueError, match="scale must be >= 1"):
        StabilityConfig(TrainConfig("bfs"), scale=0.5)
    s = run(StabilityConfig(TrainConfig("bfs", steps=0, test_length=8), runs=1, scale=1), tmp_path / "s1", parallel=1, progress=False)
    run(StabilityConfig(TrainConfig("bfs", steps=0, test_length=8), runs=1), tmp_path / "s0", parallel=1, progress=False)
    big = lambda p: max(float(np.abs(np.asarray(x)).max()) for x in jax.tree.leaves(eqx.filter(load(p), eqx.is_inexact_array)))  # noqa: E731
    assert s["test_mean"] == 100.0 and big(tmp_path / "s1" / "compiled.eqx") < big(tmp_path / "s0" / "compiled.eqx")
    with pytest.raises(ValueError, match="scale: 1 there, 2 now"):
        run(StabilityConfig(TrainConfig("bfs", steps=0, test_length=8), runs=1, scale=2), tmp_path / "s1", parallel=1, progress=False)


def test_stability_under_the_paper_mechanism_trains_and_tests_at_its_size(tmp_path):
    """``mechanism="paper"``: the start has B (n × n), the runs train and test at n, the
    compiled start is exact there, and the settings name the mechanism; lengths that
    contradict its n are refused."""
    from eqgat import load
    from eqgat.workflows.stability import StabilityConfig, run
    from eqgat.workflows.training import TrainConfig

    cfg = StabilityConfig(TrainConfig("bellman_ford", steps=0), runs=1, mechanism="paper", nodes=6)
    s = run(cfg, tmp_path, parallel=1, progress=False)
    assert s["test_mean"] == 100.0
    start = load(tmp_path / "compiled.eqx")
    assert start.config.use_pre_att_bias and start.config.nb_nodes == 6
    saved = json.loads((tmp_path / "stability.json").read_text())
    assert "of 6 nodes" in saved["test_split"] and saved["config"]["mechanism"] == "paper"
    assert saved["config"]["train_lengths"] == [6] and saved["config"]["nodes"] == 6
    assert "mechanism" not in StabilityConfig(TrainConfig("bfs")).settings()  # sweeps saved before it resume
    with pytest.raises(ValueError, match="needs --nodes N"):
        StabilityConfig(TrainConfig("bfs"), mechanism="paper")
    with pytest.raises(ValueError, match="leave the train lengths"):
        StabilityConfig(TrainConfig("bfs", train_lengths=(4, 6)), mechanism="paper", nodes=6)

    from landscape.cli import main

    out = tmp_path / "cli"
    assert main(["stability", "--algo", "bfs", "--runs", "1", "--steps", "0", "--mechanism", "paper", "--nodes", "5",
                 "--out", str(out)]) == 0
    assert load(out / "compiled.eqx").config.nb_nodes == 5


def test_stability_noise_moves_each_start_by_its_own_direction(tmp_path):
    from eqgat.workflows.stability import StabilityConfig, run
    from eqgat.workflows.training import TrainConfig

    s = run(StabilityConfig(TrainConfig("bfs", steps=0, test_length=8), runs=2, noise=0.01, hidden_size=8), tmp_path,
            parallel=2, progress=False)
    runs = json.loads((tmp_path / "stability.json").read_text())["runs"]
    d = [r["relative_distance"] for r in runs]
    assert 0 < d[0] < 0.01 and 0 < d[1] < 0.01 and d[0] != d[1]  # filter-normalised: |δ_k| = σ|θ_k| per filter
    assert s["n"] == 2
    # φ_internal at step 0 is each perturbed start's distance to the compiled model on
    # the probe graphs (16 graphs of 16 nodes, seed 10,000 + the first seed)
    from eqgat import load
    from eqgat.data import sample
    from eqgat.workflows.training import initial_models, unstack

    cfg = StabilityConfig(TrainConfig("bfs", steps=0, test_length=8), runs=2, noise=0.01, hidden_size=8)
    compiled = load(tmp_path / "compiled.eqx")
    starts = initial_models(cfg.run_config(tmp_path / "compiled.eqx", [0, 1]))
    probe = sample("bfs", 16, 16, seed=10_000)
    for k in range(2):
        want = internal(unstack(starts, k), compiled, probe)["mean"]
        assert runs[k]["phi_internal"][0]["step"] == 0  # (0 here: 1% noise leaves the saturated attention as it is)
        np.testing.assert_allclose(runs[k]["phi_internal"][0]["phi_internal"], want, rtol=1e-6)


def test_faithfulness_run_saves_results_and_figures_that_replot_from_files(tmp_path):
    from pathlib import Path

    from eqgat.workflows.faithfulness import replot, run

    ckpts = tmp_path / "run"
    ckpts.mkdir()
    for s in range(2):
        eqgat.save(ckpts / f"seed{s}.eqx", eqgat.Model(eqgat.ModelConfig("bfs", 8), key=jax.random.key(s)), source="trained")
        (ckpts / f"seed{s}.json").write_text(json.dumps({"test_score": 0.5 + 0.1 * s}))
    out = tmp_path / "faith"
    summary = run(ckpts, "bfs", out, split="sampler", length=8, samples=4)
    assert [Path(r["checkpoint"]).name for r in summary["seeds"]] == ["seed0.eqx", "seed1.eqx"]
    # each seed's numbers are its model's distance to (and accuracy against) the compiled
    # model on the sampler graphs, recomputed here; the figures' data are what was saved
    from eqgat.workflows.faithfulness import eval_graphs, reference_model

    batch = eval_graphs("bfs", "sampler", length=8, samples=4)
    compiled = reference_model("bfs", "general", batch.nb_nodes)
    saved = json.loads((out / "faithfulness.json").read_text())
    assert saved["seeds"] == json.loads(json.dumps(summary["seeds"]))
    for s, row in enumerate(saved["seeds"]):
        model = eqgat.load(ckpts / f"seed{s}.eqx")
        inn = internal(model, compiled, batch)
        assert row["internal_mean"] == pytest.approx(inn["mean"], rel=1e-6) and row["best_head"] == inn["best_head"]
        np.testing.assert_allclose(row["internal"], inn["best"], rtol=1e-6)
        for name, curve in external(model, batch).items():
            np.testing.assert_allclose(row["external"][name], curve, rtol=1e-6)
    for name, curve in saved["compiled_external"].items():
        finite = np.asarray(curve, float)[np.isfinite(np.asarray(curve, float))]
        assert finite.size and np.all(finite == 1.0)
    best = min(range(2), key=lambda s: saved["seeds"][s]["internal_mean"])
    att = np.load(out / "attention-best-vs-compiled.npz")
    np.testing.assert_allclose(att["learned"], attention(eqgat.load(ckpts / f"seed{best}.eqx"), batch[0])[0][:, [saved["seeds"][best]["best_head"]]], rtol=1e-6)
    np.testing.assert_allclose(att["compiled"], attention(compiled, batch[0])[0][:, [0]], rtol=1e-6)
    assert int(att["length"]) == int(batch.length[0])
    pngs = sorted(p.name for p in out.glob("*.png"))
    for p in out.glob("*.png"):
        p.unlink()
    assert sorted(p.name for p in replot(out)) == pngs and len(pngs) == 4


def test_phi_internal_against_either_reference(tmp_path):
    """The paper's α* (self-default) differs from the general one on kept nodes; each
    reference is at distance 0 from itself, and the CLI records which one was used."""
    from eqgat.cli import main
    from eqgat.workflows.faithfulness import reference_model, run

    batch = _batch()  # 8 graphs of 10 nodes
    general, paper = (reference_model("bfs", r, batch.nb_nodes) for r in ("general", "paper"))
    assert internal(paper, paper, batch)["mean"] == 0.0
    d = internal(general, paper, batch)["mean"]
    assert 0.05 < d < 1.0  # every kept node attends elsewhere
    ckpts = tmp_path / "run"
    ckpts.mkdir()
    eqgat.save(ckpts / "seed0.eqx", general, source="compiled")
    s = run(ckpts, "bfs", tmp_path / "f", split="sampler", length=10, samples=8, seed=0, reference="paper")
    assert s["reference"] == "paper" and s["seeds"][0]["internal_mean"] > 0.05
    assert main(["faithfulness", "--checkpoints", str(ckpts), "--algo", "bfs", "--out", str(tmp_path / "g"),
                 "--split", "sampler", "--length", "10", "--samples", "4", "--reference", "general"]) == 0
    assert json.loads((tmp_path / "g" / "faithfulness.json").read_text())["seeds"][0]["internal_mean"] == 0.0
    with pytest.raises(ValueError, match="unknown reference"):
        reference_model("bfs", "tracr", 10)
