"""Training: the seed axis, checkpoints, and clear errors."""

import dataclasses
import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import eqgat
from eqgat import programs
from eqgat import output_score, predict
from eqgat.data import Sampler
from eqgat.workflows.training import TrainConfig, evaluate_checkpoint, resolve_init, train, unstack

SMALL = dict(algo="bfs", model=eqgat.ModelConfig("bfs", 8), steps=3, train_lengths=(5, 6), batch_size=4, val_every=0)


def _params(model):
    return jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))


def test_seed_axis_training_equals_separate_single_seed_runs():
    one_size = {**SMALL, "train_lengths": (5,)}  # one graph size: one step program per run
    both = train(TrainConfig(**one_size, seed=0, seeds=2), test=False, progress=False)
    alone = [train(TrainConfig(**one_size, seed=k, seeds=1), test=False, progress=False) for k in range(2)]
    for k in range(2):
        # same keys, same data: the same run, up to float rounding (a vmap over 2 seeds and
        # over 1 compile to different reductions). Adam turns rounding noise in a zero
        # gradient (a bias that shifts every logit of a softmax, e.g. ω's) into up to an
        # lr-sized step, so a parameter may differ by at most steps·lr
        bound = SMALL["steps"] * TrainConfig().lr
        for a, b in zip(_params(unstack(both.models, k)), _params(unstack(alone[k].models, 0)), strict=True):
            np.testing.assert_allclose(a, b, atol=bound)
        np.testing.assert_allclose(both.losses[:, k], alone[k].losses[:, 0], rtol=1e-4)
    # and the two seeds really are different runs
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(_params(unstack(both.models, 0)), _params(unstack(both.models, 1)), strict=True))
    assert diff > 0.1


def test_training_compiles_one_step_program_per_graph_size(no_compile_cache):
    """Counted from jax's compile events (as benchmarks/train_step.py counts them)."""
    events = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            events.append(kwargs.get("fun_name"))

    cfg = TrainConfig(**{**SMALL, "steps": 5})  # lengths 5, 6, 5, 6, 5
    train(cfg, test=False, progress=False)  # every helper (init, stacking, optimiser) compiled once
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        res = train(dataclasses.replace(cfg, lr=2e-4), test=False, progress=False)  # another step: compiled again
        assert len(events) == 2 and res.compiles == 2  # one step program per graph size, none per step
        events.clear()
        # equal step settings (the seed, the steps are not among them): the step already compiled
        train(dataclasses.replace(cfg, seed=3, steps=2), test=False, progress=False)
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert events == []


def test_equal_step_settings_give_one_optimizer_and_one_step():
    from eqgat.workflows.training import make_step, optimizer

    cfg = TrainConfig(**SMALL)
    same = dataclasses.replace(cfg, seed=7, steps=1, batch_size=2, train_lengths=(9,))
    assert optimizer(cfg) is optimizer(same) and optimizer(cfg) is not optimizer(dataclasses.replace(cfg, lr=1e-3))
    assert optimizer(cfg) is not optimizer(dataclasses.replace(cfg, grad_clip=0.0))
    a, b = make_step(cfg, optimizer(cfg)), make_step(same, optimizer(same))
    assert a.func is b.func and a.keywords == b.keywords  # one jitted function, the same static arguments


def test_checkpoint_round_trip_and_evaluate(tmp_path):
    res = train(TrainConfig(**SMALL, seeds=2), test=False, progress=False, out=tmp_path / "run")
    for k in range(2):
        loaded = eqgat.load(tmp_path / "run" / f"seed{k}.eqx")
        for a, b in zip(_params(unstack(res.models, k)), _params(loaded), strict=True):
            np.testing.assert_array_equal(a, b)
    meta = json.loads((tmp_path / "run" / "seed1.eqx.json").read_text())
    assert meta["info"]["train_config"]["model"]["hidden_size"] == 8 and meta["info"]["seed"] == 1
    assert meta["model"] == meta["info"]["train_config"]["model"]  # one spelling of the architecture
    r = evaluate_checkpoint(tmp_path / "run" / "seed0.eqx", length=8)
    batch = Sampler("bfs", 8, 32, seed=3, random_pos=False, p=(0.5,)).next()  # evaluate's own graphs
    model = unstack(res.models, 0)
    assert r["score"] == output_score(model, predict(model, batch), batch) and r["source"] == "trained"
    # a compiled checkpoint is evaluated the same way
    eqgat.save(tmp_path / "bfs.eqx", eqgat.compile_program(programs.bfs, 4), source="compiled")
    assert evaluate_checkpoint(tmp_path / "bfs.eqx", length=8)["score"] == 1.0


def test_bad_checkpoints_get_clear_errors(tmp_path):
    junk = tmp_path / "junk.eqx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not an eqgat checkpoint"):
        eqgat.load(junk)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        eqgat.load(tmp_path / "missing.eqx")
    # weights written with other settings than the JSON beside them
    path = eqgat.save(tmp_path / "m.eqx", eqgat.Model(eqgat.ModelConfig("bfs", 8), key=jax.random.key(0)))
    eqgat.save(tmp_path / "other.eqx", eqgat.Model(eqgat.ModelConfig("bfs", 16), key=jax.random.key(0)))
    (tmp_path / "other.eqx").replace(path)
    with pytest.raises(ValueError, match="other settings"):
        eqgat.load(path)


def test_compiled_model_as_training_initialisation(tmp_path):
    path = eqgat.save(tmp_path / "bf.eqx", eqgat.compile_program(programs.bellman_ford), source="compiled")
    res = train(TrainConfig(algo="bellman_ford", steps=2, train_lengths=(6,), batch_size=4, val_every=0,
                            lr=1e-4, init=str(path)), test=False, progress=False)
    model = unstack(res.models, 0)
    assert model.config == eqgat.load(path).config == res.config.model
    assert isinstance(model.config, eqgat.ModelConfig) and not model.config.use_ln
    with pytest.raises(ValueError, match="not bfs"):
        train(TrainConfig(algo="bfs", steps=1, train_lengths=(6,), init=str(path)), test=False, progress=False)
    # --init never silently trains another architecture than the one asked for
    with pytest.raises(ValueError, match="hidden_size is 6 there, 128 here"):
        resolve_init(TrainConfig(algo="bellman_ford", init=str(path),
                                 model=eqgat.ModelConfig("bellman_ford", 128, use_ln=False, use_edge_info=True)))
    assert resolve_init(TrainConfig(algo="bellman_ford", init=str(path))).model == eqgat.load(path).config


def test_train_config_is_frozen_and_reads_no_file_until_resolved(tmp_path):
    import dataclasses

    cfg = TrainConfig(algo="bfs", train_lengths=[5, 6])
    assert cfg.train_lengths == (5, 6) and cfg.model is None and cfg.architecture == eqgat.ModelConfig("bfs")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.steps = 3
    assert resolve_init(cfg).model == eqgat.ModelConfig("bfs")  # resolved: the architecture is written down
    missing = tmp_path / "missing.eqx"
    later = TrainConfig(algo="bfs", init=str(missing))  # constructing reads nothing
    with pytest.raises(ValueError, match="resolve_init"):
        later.architecture
    with pytest.raises(FileNotFoundError, match=f"no checkpoint at {missing}"):
        resolve_init(later)
    with pytest.raises(FileNotFoundError, match="missing.eqx"):
        train(later, test=False, progress=False)
    # a config read back from JSON (write_results' format) is the same config
    saved = json.loads(json.dumps(dataclasses.asdict(resolve_init(cfg))))
    assert "extra" not in saved and TrainConfig(**saved) == resolve_init(cfg)


def _flag_defaults(parser, command: str) -> dict:
    """dest -> (default, help) of ``command``'s options."""
    import argparse

    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return {a.dest: (a.default, a.help) for a in sub._actions}, " ".join(sub.format_help().split())


def test_train_and_stability_flags_show_trainconfigs_defaults():
    import dataclasses

    from eqgat.cli import build_parser as eqgat_parser
    from eqgat.cli.flags import TRAIN_FLAGS, shown_default
    from landscape.cli import build_parser as landscape_parser

    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    train_flags, train_help = _flag_defaults(eqgat_parser(), "train")
    stab_flags, stab_help = _flag_defaults(landscape_parser(), "stability")
    shared = set(train_flags) & set(stab_flags) & set(fields) - {"algo"}  # --algo: each command's own choices
    assert shared == {"steps", "lr", "batch_size", "train_lengths", "test_length", "seed"}
    assert set(fields) - {"algo", "model", "grad_clip"} <= set(train_flags)  # every setting but these has a flag
    for name in set(train_flags) & set(fields) - {"algo"}:
        default = fields[name].default
        assert train_flags[name][0] == default, name
        if name in shared:
            assert stab_flags[name][0] == default, name
        if default is not None and name != "random_pos":
            shown = f"(default: {shown_default(default)})"
            assert shown in train_flags[name][1], name
            assert name not in shared or shown in stab_flags[name][1], name
    assert "--train-lengths TRAIN_LENGTHS" in train_help and "(default: 4,7,11,13,16)" in stab_help
    assert all(flag in train_help for flag, _, _ in TRAIN_FLAGS.values())
    # the parsed flags build the same config as TrainConfig's defaults
    from eqgat.cli.flags import train_from_flags

    args = eqgat_parser().parse_args(["train", "--algo", "bfs"])
    assert train_from_flags(args, algo="bfs") == TrainConfig(algo="bfs")
    args = landscape_parser().parse_args(["stability", "--algo", "bfs", "--lr", "0.001", "--train-lengths", "5,6"])
    assert train_from_flags(args, algo="bfs") == TrainConfig(algo="bfs", lr=1e-3, train_lengths=(5, 6))


def test_init_cli_records_the_checkpoints_architecture_and_refuses_other_flags(tmp_path, capsys):
    from eqgat.cli import main

    path = eqgat.save(tmp_path / "bf.eqx", eqgat.compile_program(programs.bellman_ford), source="compiled")
    common = ["train", "--algo", "bellman_ford", "--steps", "1", "--train-lengths", "5", "--batch-size", "2",
              "--val-every", "0", "--init", str(path)]
    assert main([*common, "--hidden-size", "128"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "hidden_size is 6 there, 128 here" in err
    assert main([*common, "--hidden-size", "6", "--use-edge-info", "--no-ln", "--out", str(tmp_path / "ok")]) == 0
    summary = json.loads((tmp_path / "ok" / "summary.json").read_text())
    assert summary["config"]["model"] == eqgat.load(path).config.to_dict()
    assert eqgat.load(tmp_path / "ok" / "seed0.eqx").config == eqgat.load(path).config


def test_config_errors():
    with pytest.raises(ValueError, match="fixes the graph size to nb_nodes=16"):
        TrainConfig(model=eqgat.ModelConfig("bfs", use_pre_att_bias=True, nb_nodes=16))
    with pytest.raises(ValueError, match="needs nb_nodes"):
        eqgat.ModelConfig("bfs", use_pre_att_bias=True)
    with pytest.raises(ValueError, match="must divide"):
        eqgat.ModelConfig("bfs", 10, nb_heads=4)
    with pytest.raises(ValueError, match="unknown algorithm"):
        TrainConfig(algo="sorting")
    with pytest.raises(ValueError, match="config is for bellman_ford"):
        TrainConfig(algo="bfs", model=eqgat.ModelConfig("bellman_ford"))
    for lr in (0.0, -1e-4, float("nan"), float("inf")):  # Adam would ascend, stand still or blow up
        with pytest.raises(ValueError, match=f"lr must be a finite learning rate > 0, got {lr}"):
            TrainConfig(lr=lr)
    with pytest.raises(TypeError, match="ModelConfig"):
        eqgat.Model("bfs", key=jax.random.key(0))


def test_cli_reports_a_bad_checkpoint_as_an_error_not_a_traceback(tmp_path, capsys):
    from eqgat.cli import main

    bad = tmp_path / "notes.txt"
    bad.write_text("not a model")
    assert main(["evaluate", "--checkpoint", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not an eqgat checkpoint" in err and "Traceback" not in err


def test_pre_attention_bias_run_validates_tests_and_saves_at_its_own_size(tmp_path):
    # B fixes n: validation and test use graphs of that size, not CLRS-30's n = 16 / 64,
    # and the models are written before the test runs
    cfg = TrainConfig(algo="bfs", model=eqgat.ModelConfig("bfs", 8, use_pre_att_bias=True, nb_nodes=5),
                      train_lengths=(5,), steps=2, batch_size=2, val_every=1)
    res = train(cfg, out=tmp_path / "b", progress=False)
    assert len(res.val) == 2 and res.test_scores is not None and 0 < len(res.test_scores) == 1
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["test_split"].startswith("32 test-distribution graphs of 5 nodes")
    assert summary["test_scores"] == res.test_scores
    assert eqgat.load(tmp_path / "b" / "seed0.eqx").config.nb_nodes == 5
    with pytest.raises(ValueError, match="the test length must be 5, got 64"):
        TrainConfig(algo="bfs", model=cfg.model, train_lengths=(5,), test_length=64)


def test_test_length_and_non_finite_steps(tmp_path):
    from eqgat.cli import main

    out = tmp_path / "t"
    assert main(["train", "--algo", "bfs", "--steps", "2", "--train-lengths", "5", "--batch-size", "2", "--hidden-size",
                 "8", "--val-every", "0", "--test-length", "6", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert "at n=6" in summary["test_split"] and summary["skipped_steps"] == [0]
    # a step whose gradient is not finite is skipped (parameters and Adam's moments kept)
    # and counted: an infinite L1 weight makes every gradient ±inf or NaN
    cfg = TrainConfig(algo="bfs", model=eqgat.ModelConfig("bfs", 8), train_lengths=(5,), steps=3, batch_size=2,
                      val_every=0, regularization_weight=float("inf"))
    res = train(cfg, test=False, progress=False)
    assert res.skipped == [3]
    start = eqgat.Model(cfg.model, key=eqgat.workflows.training.model_key(0))
    for a, b in zip(jax.tree.leaves(eqx.filter(res.models, eqx.is_inexact_array)),
                    jax.tree.leaves(eqx.filter(start, eqx.is_inexact_array)), strict=True):
        np.testing.assert_array_equal(a[0], b)


def test_dfs_batch_whose_gradient_was_nan_everywhere():
    # dm-clrs' sampler, seed 4, n = 7, p = 0.5, first batch of 4, hidden 12: the loss was
    # finite (its value is unchanged) but 76 of 84 gradient arrays were NaN, in dm-clrs
    # too. Cause: jnp.max's gradient in the graph decoder divides by the count of entries
    # equal to the max, and compiled for XLA:CPU the backward pass recomputed the operand
    # with other rounding and counted none (0/0). ``node_max`` gathers at argmax instead.
    clrs = pytest.importorskip("clrs")

    from eqgat import data
    from eqgat import node_max

    sampler, _ = clrs.build_sampler("dfs", num_samples=-1, length=7, seed=4, p=(0.5,))
    fb = sampler.next(4)
    batch = data.from_clrs("dfs", fb.features, fb.outputs, trace_length=eqgat.max_trace_length("dfs", 7))
    for seed in (0, 1):
        model = eqgat.Model(eqgat.ModelConfig("dfs", 12), key=jax.random.key(seed))
        value, grads = eqx.filter_jit(eqx.filter_value_and_grad(eqgat.loss))(model, batch)
        leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
        assert np.isfinite(float(value)) and all(np.all(np.isfinite(x)) for x in leaves)
        assert sum(np.any(x != 0) for x in leaves) > len(leaves) // 2  # real gradients, not zeros
    h = jax.random.normal(jax.random.key(0), (7, 5))
    np.testing.assert_array_equal(node_max(h), jnp.max(h, axis=0))  # the same value as jnp.max
    g = jax.grad(lambda h: jnp.sum(node_max(h)))(h)
    np.testing.assert_array_equal(g, jax.nn.one_hot(jnp.argmax(h, 0), 7).T)


def test_every_evaluation_batch_is_one_named_choice():
    """train's, evaluate_checkpoint's, the landscapes' and faithfulness' batches are
    ``data.evaluation_batch``'s, and the same graphs as before it existed."""
    from eqgat.data import clrs30_split, evaluation_batch, sample_graphs
    from eqgat.workflows.faithfulness import eval_graphs
    from eqgat.workflows.landscapes import landscape_batch
    from eqgat.workflows.training import eval_batch

    def same(a, b):
        return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))

    assert same(evaluation_batch("bfs", "val", length=6), clrs30_split("bfs", "val", length=6))
    assert same(eval_batch(TrainConfig(algo="bfs", test_length=6), "test"), clrs30_split("bfs", "test", length=6))
    bias = TrainConfig(algo="bfs", model=eqgat.ModelConfig("bfs", 8, use_pre_att_bias=True, nb_nodes=5), train_lengths=(5,))
    assert same(eval_batch(bias, "val"), sample_graphs("bfs", 5, seed=2))  # the val split's seed
    assert same(landscape_batch("bfs", batch_size=4, seed=1), sample_graphs("bfs", 16, 4, seed=1).trimmed())
    assert same(eval_graphs("bfs", "sampler", length=6, samples=3, seed=5), sample_graphs("bfs", 6, 3, seed=5))
    assert same(eval_graphs("bfs", "sampler"), sample_graphs("bfs", 16, 32, seed=0))
    with pytest.raises(ValueError, match="own sample count and seed"):
        evaluation_batch("bfs", "test", seed=3)
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        evaluation_batch("bfs", "dev")
