"""Training: the seed axis, checkpoints, and clear errors."""

import json

import equinox as eqx
import jax
import numpy as np
import pytest

import eqgat
from eqgat import programs
from eqgat.train import TrainConfig, evaluate_checkpoint, train, unstack

SMALL = dict(algo="bfs", hidden_size=8, steps=3, train_lengths=(5, 6), batch_size=4, val_every=0)


def _params(model):
    return jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))


def test_seed_axis_training_equals_separate_single_seed_runs():
    both = train(TrainConfig(**SMALL, seed=0, seeds=2), test=False, progress=False)
    alone = [train(TrainConfig(**SMALL, seed=k, seeds=1), test=False, progress=False) for k in range(2)]
    for k in range(2):
        # same keys, same data: the same run, up to float rounding (a vmap over 2 seeds and
        # over 1 compile to different reductions). Adam turns rounding noise in a zero
        # gradient (a bias that shifts every logit of a softmax, e.g. ω's) into up to an
        # lr-sized step, so a parameter may differ by at most steps·lr
        bound = SMALL["steps"] * TrainConfig().lr
        for a, b in zip(_params(unstack(both.models, k)), _params(unstack(alone[k].models, 0))):
            np.testing.assert_allclose(a, b, atol=bound)
        np.testing.assert_allclose(both.losses[:, k], alone[k].losses[:, 0], rtol=1e-4)
    # and the two seeds really are different runs
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(_params(unstack(both.models, 0)), _params(unstack(both.models, 1))))
    assert diff > 0.1
    assert both.compiles == 2  # one per graph size


def test_checkpoint_round_trip_and_evaluate(tmp_path):
    res = train(TrainConfig(**SMALL, seeds=2), test=False, progress=False, out=tmp_path / "run")
    for k in range(2):
        loaded = eqgat.load(tmp_path / "run" / f"seed{k}.eqx")
        for a, b in zip(_params(unstack(res.models, k)), _params(loaded)):
            np.testing.assert_array_equal(a, b)
    meta = json.loads((tmp_path / "run" / "seed1.eqx.json").read_text())
    assert meta["info"]["train_config"]["hidden_size"] == 8 and meta["info"]["seed"] == 1
    r = evaluate_checkpoint(tmp_path / "run" / "seed0.eqx", length=8)
    assert 0.0 <= r["score"] <= 1.0 and r["source"] == "trained"
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
    path = eqgat.save(tmp_path / "m.eqx", eqgat.Model("bfs", 8, key=jax.random.key(0)))
    eqgat.save(tmp_path / "other.eqx", eqgat.Model("bfs", 16, key=jax.random.key(0)))
    (tmp_path / "other.eqx").replace(path)
    with pytest.raises(ValueError, match="other settings"):
        eqgat.load(path)


def test_compiled_model_as_training_initialisation(tmp_path):
    path = eqgat.save(tmp_path / "bf.eqx", eqgat.compile_program(programs.bellman_ford), source="compiled")
    res = train(TrainConfig(algo="bellman_ford", steps=2, train_lengths=(6,), batch_size=4, val_every=0,
                            lr=1e-4, init=str(path)), test=False, progress=False)
    model = unstack(res.models, 0)
    assert eqgat.model_config(model) == eqgat.model_config(eqgat.load(path))
    with pytest.raises(ValueError, match="not bfs"):
        train(TrainConfig(algo="bfs", steps=1, train_lengths=(6,), init=str(path)), test=False, progress=False)


def test_config_errors():
    with pytest.raises(ValueError, match="single --train-lengths"):
        TrainConfig(use_pre_att_bias=True)
    with pytest.raises(ValueError, match="unknown algorithm"):
        TrainConfig(algo="sorting")


def test_cli_reports_a_bad_checkpoint_as_an_error_not_a_traceback(tmp_path, capsys):
    from eqgat.cli import main

    bad = tmp_path / "notes.txt"
    bad.write_text("not a model")
    assert main(["evaluate", "--checkpoint", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not an eqgat checkpoint" in err and "Traceback" not in err
