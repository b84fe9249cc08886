"""Attention supervision: the compiled mechanism as a teacher (``train
--attention-supervision W``)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import eqgat
from eqgat.workflows.training import TrainConfig, train

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_the_attention_loss_is_zero_for_the_teacher_itself_and_positive_for_a_learner():
    import jax

    compiled = eqgat.compile_algorithm("bfs")
    batch = eqgat.sample("bfs", 6, 8, seed=1)
    own = float(eqgat.attention_loss(compiled, compiled, batch))
    learner = eqgat.Model(eqgat.ModelConfig("bfs", hidden_size=16), key=jax.random.key(0))
    other = float(eqgat.attention_loss(learner, compiled, batch))
    assert 0 <= own < 1e-4, own  # α* is one-hot to float32: its entropy is ~0
    assert other > 0.1, other
    # an explicit check of the value: -Σ_j α* log α̂ averaged over receivers and live steps
    a_hat = np.asarray(eqgat.predict(learner, batch, teacher_forcing=True).alpha, np.float64)[:, :, 0]
    a_star = np.asarray(eqgat.predict(compiled, batch, teacher_forcing=True).alpha, np.float64)[:, :, 0]
    length = np.asarray(batch.length)
    ce = -(a_star * np.log(np.maximum(a_hat, 1e-300))).sum(-1).mean(-1)  # [b, T-1]
    live = np.arange(ce.shape[1])[None] < length[:, None] - 1
    assert other == pytest.approx((ce * live).sum() / live.sum(), rel=1e-4)


def test_supervision_moves_the_learned_attention_to_the_compiled_one():
    """Same seeds, same data: the supervised run's φ_internal against the compiled model
    ends lower than the unsupervised run's."""
    from eqgat.workflows.faithfulness import internal

    base = TrainConfig(algo="bfs", steps=60, seeds=2, batch_size=8, train_lengths=(5, 6), lr=3e-3, val_every=0,
                       model=eqgat.ModelConfig("bfs", hidden_size=16))
    compiled = eqgat.compile_algorithm("bfs")
    probe = eqgat.sample("bfs", 6, 16, seed=123)
    phi = {}
    for w in (0.0, 1.0):
        res = train(base.__class__(**{**base.__dict__, "attention_supervision": w}), test=False, progress=False)
        phi[w] = [internal(eqgat.workflows.training.unstack(res.models, k), compiled, probe)["mean"]
                  for k in range(2)]
    assert all(s < u for s, u in zip(phi[1.0], phi[0.0], strict=True)), phi


def test_the_setting_is_recorded_in_the_summary_and_the_checkpoints(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "eqgat", "train", "--algo", "bfs", "--attention-supervision", "1",
                        "--steps", "20", "--batch-size", "4", "--train-lengths", "5", "--hidden-size", "8",
                        "--val-every", "0", "--test-length", "5", "--out", str(out)],
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONPATH": SRC, "JAX_PLATFORMS": "cpu"})
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["attention_supervision"] == {"weight": 1.0, "reference": "general", "heads": 1}
    assert summary["config"]["attention_supervision"] == 1.0
    meta = json.loads((out / "seed0.eqx.json").read_text())
    assert meta["info"]["train_config"]["attention_supervision"] == 1.0
    assert meta["info"]["train_config"]["attention_reference"] == "general"


def test_bad_supervision_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="algorithms with one: .*bfs"):
        TrainConfig(algo="bfs_seq", attention_supervision=1.0)
    with pytest.raises(ValueError, match="dfs's is a DepthFirst \\(full attention, eight heads\\)"):
        TrainConfig(algo="dfs", attention_supervision=1.0)
    with pytest.raises(ValueError, match="give one --train-lengths N"):
        TrainConfig(algo="bfs", attention_supervision=1.0, attention_reference="paper")
    with pytest.raises(ValueError, match="attention_reference must be one of general, paper"):
        TrainConfig(algo="bfs", attention_supervision=1.0, attention_reference="mine")
    with pytest.raises(ValueError, match="supervised_heads"):
        TrainConfig(algo="bfs", attention_supervision=1.0, supervised_heads=2,
                    model=eqgat.ModelConfig("bfs", hidden_size=8))
    with pytest.raises(ValueError, match="finite weight"):
        TrainConfig(algo="bfs", attention_supervision=-1.0)


def test_paper_reference_supervises_at_its_one_size():
    cfg = TrainConfig(algo="bfs", steps=3, batch_size=4, train_lengths=(5,), val_every=0, attention_supervision=1.0,
                      attention_reference="paper", model=eqgat.ModelConfig("bfs", hidden_size=8))
    res = train(cfg, test=False, progress=False)
    assert np.all(np.isfinite(res.losses))
