"""The core model: shapes, switches, time padding, and clear errors on bad input."""

import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import jaxtyping
import numpy as np
import pytest

import eqgat
from eqgat import data

KEY = jax.random.key(0)


def _graph_inputs(n, s=8, key=KEY):
    k = jax.random.split(key, 5)
    V = jax.random.normal(k[0], (n, s))
    E = jax.random.normal(k[1], (n, n, s))
    g = jax.random.normal(k[2], (s,))
    A = jnp.maximum(jnp.eye(n), (jax.random.uniform(k[3], (n, n)) < 0.4).astype(jnp.float32))
    H = jax.random.normal(k[4], (n, s))
    return V, E, g, A, H


def test_gatv2_shapes_and_attention_is_a_distribution_over_neighbours():
    layer = eqgat.GATv2(8, 8, nb_heads=2, key=KEY)
    V, E, g, A, H = _graph_inputs(5)
    H2, alpha = layer(V, E, g, A, H)
    assert H2.shape == (5, 8) and alpha.shape == (2, 5, 5)
    np.testing.assert_allclose(alpha.sum(-1), 1.0, rtol=1e-6)
    assert float(jnp.max(jnp.where(A[None] == 0, alpha, 0.0))) == 0.0


def test_switches_add_their_parameters():
    plain = eqgat.GATv2(8, 8, key=KEY)
    both = eqgat.GATv2(8, 8, use_edge_info=True, use_pre_att_bias=True, nb_nodes=5, key=KEY)
    assert plain.W_info is None and plain.B is None
    assert both.W_info.weight.shape == (8, 8) and both.B.shape == (5, 5)
    V, E, g, A, H = _graph_inputs(5)
    # W_info is summed into H: different output from the same other weights
    assert not jnp.allclose(plain(V, E, g, A, H)[0], both(V, E, g, A, H)[0])
    # B shifts attention: a large diagonal B makes every node attend to itself
    selfish = eqx.tree_at(lambda l: l.B, both, 1e3 * jnp.eye(5))
    selfish = eqx.tree_at(lambda l: l.omega, selfish, jnp.ones_like(selfish.omega))
    _, alpha = selfish(V, E, g, A, H)
    np.testing.assert_allclose(jnp.diagonal(alpha[0]), 1.0, atol=1e-5)


def test_pre_att_bias_fixes_the_graph_size():
    layer = eqgat.GATv2(8, 8, use_pre_att_bias=True, nb_nodes=5, key=KEY)
    with pytest.raises(ValueError, match="pre-attention bias B of size 5x5.*n=6"):
        layer(*_graph_inputs(6))
    with pytest.raises(ValueError, match="needs nb_nodes"):
        eqgat.GATv2(8, 8, use_pre_att_bias=True, key=KEY)


def test_heads_must_divide_hidden():
    with pytest.raises(ValueError, match="must divide"):
        eqgat.GATv2(8, 6, nb_heads=4, key=KEY)


def test_wrong_shape_fails_with_a_readable_message():
    layer = eqgat.GATv2(8, 8, key=KEY)
    V, E, g, A, H = _graph_inputs(5)
    with pytest.raises(jaxtyping.TypeCheckError) as err:
        layer(V, E[:, :4], g, A, H)  # edge features not n×n
    msg = str(err.value)
    assert "typechecking parameter 'E'" in msg and "f32[5,4,8]" in msg and "'n n f'" in msg, msg


@pytest.mark.parametrize("algo", eqgat.ALGORITHMS)
def test_model_runs_every_algorithm_batched_by_vmap(algo):
    batch = data.from_graph(algo, np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]]))
    model = eqgat.Model(eqgat.ModelConfig(algo, 8), key=KEY)
    pred = jax.vmap(model)(batch.inputs, batch.hints, batch.length)
    T = batch.trace_length
    assert pred.outputs["pi"].shape == (1, 4, 4)
    assert pred.alpha.shape == (1, T - 1, 1, 4, 4)
    assert pred.hidden.shape == (1, T - 1, 4, 8)
    for name, logits in pred.hints.items():
        assert logits.shape[:2] == (1, T - 1), name
    assert np.isfinite(float(eqgat.loss(model, batch)))


def test_time_padding_changes_neither_outputs_nor_loss():
    A = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    short = data.from_graph("bfs", A, trace_length=3)
    long = data.from_graph("bfs", A, trace_length=9)
    model = eqgat.Model(eqgat.ModelConfig("bfs", 8), key=KEY)
    run = lambda b: jax.vmap(model)(b.inputs, b.hints, b.length)
    np.testing.assert_allclose(run(short).outputs["pi"], run(long).outputs["pi"], rtol=1e-6)
    np.testing.assert_allclose(eqgat.loss(model, short), eqgat.loss(model, long), rtol=1e-6)


def test_skipping_steps_past_the_longest_trace_changes_nothing_scored():
    # two graphs of different trace lengths, padded to a long bucket: run_batch skips the
    # padding steps (lax.cond), the plain vmap computes them; outputs, live hint steps and
    # the loss agree, and skipped steps are zeros
    A1 = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    A2 = np.ones((4, 4)) - np.eye(4)
    b1, b2 = data.from_graph("bfs", A1, trace_length=12), data.from_graph("bfs", A2, trace_length=12)
    batch = jax.tree.map(lambda x, y: jnp.concatenate([x, y]), b1, b2)
    model = eqgat.Model(eqgat.ModelConfig("bfs", 8), key=KEY)
    full = jax.vmap(model)(batch.inputs, batch.hints, batch.length)
    fast = eqgat.run_batch(model, batch)
    steps = int(np.max(batch.length)) - 1
    assert steps < batch.trace_length - 1
    np.testing.assert_allclose(fast.outputs["pi"], full.outputs["pi"], rtol=1e-6)
    for name in full.hints:
        np.testing.assert_allclose(fast.hints[name][:, :steps], full.hints[name][:, :steps], rtol=1e-6)
        assert not np.any(np.asarray(fast.hints[name][:, steps:]))
    plain = sum(eqgat.prediction_losses(model, full, batch).values())
    np.testing.assert_allclose(eqgat.loss(model, batch), plain, rtol=1e-6)


def test_no_hints_mode_has_no_hint_encoders_or_decoders():
    model = eqgat.Model(eqgat.ModelConfig("bfs", 8, encode_hints=False, decode_hints=False), key=KEY)
    assert set(model.encoders) == {"pos", "s", "A", "adj"} and set(model.decoders) == {"pi"}
    with pytest.raises(ValueError, match="encode_hints"):
        eqgat.Model(eqgat.ModelConfig("bfs", 8, encode_hints=True, decode_hints=False), key=KEY)


def test_bad_graphs_and_names_get_value_errors():
    with pytest.raises(ValueError, match="square"):
        data.from_graph("bfs", np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        data.from_graph("bellman_ford", np.array([[0, np.nan], [1, 0]]))
    with pytest.raises(ValueError, match="unknown algorithm 'dijkstra'"):
        data.from_graph("dijkstra", np.eye(3))
    with pytest.raises(ValueError, match="unknown algorithm"):
        eqgat.Model(eqgat.ModelConfig("quicksort", 8), key=KEY)
    with pytest.raises(ValueError, match="source 5"):
        data.from_graph("bfs", np.eye(3), source=5)


def test_single_node_graph():
    batch = data.from_graph("bfs", np.zeros((1, 1)))
    assert batch.inputs["adj"].shape == (1, 1, 1) and batch.outputs["pi"].shape == (1, 1)
    model = eqgat.Model(eqgat.ModelConfig("bfs", 8), key=KEY)
    pred = jax.vmap(model)(batch.inputs, batch.hints, batch.length)
    assert pred.outputs["pi"].shape == (1, 1, 1)


def test_import_eqgat_does_not_import_tensorflow():
    code = "import sys, eqgat; print(any(m.split('.')[0] in ('tensorflow', 'clrs') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
