"""Saved CLRS checkpoints: dm-clrs 2.0.3's ``save_model`` pickles and the paper authors'
fork's (both switches), read without dm-clrs and reproducing their source model."""

import json
from pathlib import Path

import jax
import numpy as np
import pytest

import eqgat
from eqgat import data
from eqgat.workflows import interop
from eqgat import postprocess

FIXTURE = Path(__file__).parent / "fixtures" / "fork-gatv2-bellman_ford-n8"
TOL = 1e-4


def _fixture_batch(fx):
    inputs = {k[6:]: fx[k] for k in fx.files if k.startswith("input/")}
    hints = {k[5:]: np.moveaxis(fx[k], 0, 1) for k in fx.files if k.startswith("hint/")}
    return data.to_batch("bellman_ford", data.Arrays(inputs, hints, {}, fx["lengths"]))


def _max_diffs(model, batch, ref_out, ref_hints):
    pred = interop._run(model, batch)
    spec = {p.name: p for p in model.spec}
    for k, v in ref_out.items():
        np.testing.assert_array_equal(np.asarray(postprocess(spec[k], pred.outputs[k], hard=True)), v)
    worst = 0.0
    for t, step in enumerate(ref_hints):
        for k, v in step.items():
            worst = max(worst, float(np.max(np.abs(np.asarray(pred.hints[k][:, t]) - v))))
    return worst


def test_the_forks_bellman_ford_checkpoint_reproduces_its_predictions():
    fx = np.load(f"{FIXTURE}.npz")
    meta = json.loads(str(fx["meta"]))
    model = interop.load_clrs_checkpoint(f"{FIXTURE}.pkl", algorithm="bellman_ford", hidden_size=meta["hidden_dim"],
                                         use_edge_info=True, use_pre_att_bias=True, nb_nodes=meta["nb_nodes"])
    assert model.config.use_edge_info and model.config.use_pre_att_bias
    for key in fx.files:  # every parameter of the fork arrived
        if key.startswith("param/") and key.endswith("pre_att_bias/b"):
            np.testing.assert_array_equal(model.processor.B, fx[key])
    steps = sorted({int(k.split("/")[1]) for k in fx.files if k.startswith("pred_hint/")})
    ref_hints = [{k.split("/")[2]: fx[k] for k in fx.files if k.startswith(f"pred_hint/{t}/")} for t in steps]
    worst = _max_diffs(model, _fixture_batch(fx), {"pi": fx["pred_output/pi"]}, ref_hints)
    assert worst <= TOL, worst
    # the edge information is W_info fixed to copy encoded channel 0 into channel 0, no bias
    W = np.asarray(model.processor.W_info.weight)
    assert W[0, 0] == 1.0 and np.count_nonzero(W) == 1 and not np.any(model.processor.W_info.bias)


def test_a_dm_clrs_save_model_pickle_reproduces_its_model(tmp_path, heads=2):
    # 2 heads (the fork's fixture covers a 1-head pickle; tests/test_interop.py 1-head dm-clrs models)
    clrs = pytest.importorskip("clrs")

    sampler, spec = clrs.build_sampler("bfs", num_samples=-1, length=8, seed=0, p=(0.3, 0.5))
    fb = sampler.next(4)
    model = clrs.models.BaselineModel(
        spec=spec, dummy_trajectory=fb, checkpoint_path=str(tmp_path),
        processor_factory=clrs.get_processor_factory("gatv2", use_ln=True, nb_heads=heads, nb_triplet_fts=0),
        hidden_dim=16, encode_hints=True, decode_hints=True, encoder_init="xavier_on_scalars",
        learning_rate=1e-3, grad_clip_max_norm=1.0)
    model.init(fb.features, 42)
    model.feedback(jax.random.key(1), sampler.next(4))  # trained weights, and an optimiser state in the pickle
    model.save_model("best.pkl")
    ours = interop.load_clrs_checkpoint(tmp_path / "best.pkl", algorithm="bfs", hidden_size=16, nb_heads=heads)
    ref_out, ref_hints = model.predict(jax.random.key(0), fb.features, return_hints=True)
    batch = data.from_clrs("bfs", fb.features)
    worst = _max_diffs(ours, batch, {k: np.asarray(v.data) for k, v in ref_out.items()},
                       [{k: np.asarray(v) for k, v in step.items()} for step in ref_hints])
    assert worst <= TOL, worst


def test_import_clrs_command_and_its_bad_input(tmp_path, capsys):
    from eqgat.cli import main

    out = tmp_path / "bf.eqx"
    args = ["import-clrs", f"{FIXTURE}.pkl", "--algo", "bellman_ford", "--use-edge-info", "--use-pre-att-bias",
            "--nb-nodes", "8"]
    assert main(args + ["--hidden-size", "16", "--out", str(out)]) == 0
    model = eqgat.load(out)
    assert model.config.nb_nodes == 8 and model.config.use_edge_info  # an ordinary eqgat checkpoint
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(out), "--length", "8"]) == 0
    # the printed score is the model's own on the evaluation graphs at n = 8 (32 graphs of the
    # test split's sampler seed)
    batch = eqgat.data.evaluation_batch("bellman_ford", "sampler", length=8, seed=eqgat.CLRS30["test"]["seed"])
    assert f"score {100 * eqgat.score(model, batch):.2f}%" in capsys.readouterr().out
    # the wrong architecture: the first mismatching parameter and its shape are named
    assert main(args + ["--hidden-size", "32", "--out", str(tmp_path / "x.eqx")]) == 2
    err = capsys.readouterr().err
    assert "does not match the named architecture" in err and "has shape (1, 16), expected (1, 32)" in err
    # not a pickle at all
    junk = tmp_path / "junk.pkl"
    junk.write_text("not a pickle")
    assert main(["import-clrs", str(junk), "--algo", "bfs", "--hidden-size", "16", "--out", str(tmp_path / "j.eqx")]) == 2
    assert "is not a dm-clrs save_model pickle" in capsys.readouterr().err
