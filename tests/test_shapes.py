"""Shape errors at the boundary: GATv2, Model and the functions run on batches check their
arguments' shapes themselves (plain comparisons while tracing), so a wrong size is
reported by the argument's name with both sizes, under jax.jit and jax.vmap too, and
without jaxtyping's import hook (pytest runs with it: the messages a user sees are
checked in a subprocess without it)."""

import json
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import eqgat
from eqgat.nn import check_batch

# Run in a fresh interpreter (no jaxtyping import hook): each case's error message.
USER_SESSION = r"""
import json
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import eqgat

assert not any(type(finder).__module__.startswith("jaxtyping") for finder in sys.meta_path)  # no hook here
out = {}

def case(name, f):
    try:
        f()
    except Exception as err:  # noqa: BLE001
        out[name] = f"{type(err).__name__}: {err}".splitlines()[0]
    else:
        out[name] = "no error"

n, f, s = 4, 3, 5
layer = eqgat.GATv2(f, s, key=jax.random.key(0))
V, E, g, A, H = jnp.zeros((n, f)), jnp.zeros((n, n, f)), jnp.zeros(f), jnp.eye(n), jnp.zeros((n, s))
case("gatv2 ok", lambda: layer(V, E, g, A, H))
case("gatv2 V", lambda: layer(jnp.zeros((n, 4)), E, g, A, H))
case("gatv2 V jit", lambda: jax.jit(lambda *a: layer(*a))(jnp.zeros((n, 4)), E, g, A, H))
case("gatv2 V vmap", lambda: jax.vmap(layer)(*(jnp.stack([x] * 2) for x in (jnp.zeros((n, 4)), E, g, A, H))))
case("gatv2 E", lambda: layer(V, jnp.zeros((n + 1, n + 1, f)), g, A, H))
case("gatv2 g", lambda: layer(V, E, jnp.zeros(4), A, H))
case("gatv2 A", lambda: layer(V, E, g, jnp.eye(n + 1), H))
case("gatv2 H", lambda: jax.jit(lambda *a: layer(*a))(V, E, g, A, jnp.zeros((n, 6))))
case("gatv2 batched V", lambda: layer(jnp.zeros((2, n, f)), E, g, A, H))
case("gatv2 logits", lambda: layer.logits(V, E, g, A, jnp.zeros((n + 1, s))))

model = eqgat.Model(eqgat.ModelConfig("bfs", 8), key=jax.random.key(0))
b5, b6 = eqgat.sample("bfs", 5, 2, seed=0), eqgat.sample("bfs", 6, 2, seed=0)
one = lambda d: {k: v[0] for k, v in d.items()}  # noqa: E731
case("model ok", lambda: model(one(b5.inputs), one(b5.hints), b5.length[0]))
case("model batched", lambda: model(b5.inputs, b5.hints, b5.length))
case("model A", lambda: model({**one(b5.inputs), "A": one(b6.inputs)["A"]}, one(b5.hints), b5.length[0]))
case("model A jit", lambda: eqx.filter_jit(model)({**one(b5.inputs), "A": one(b6.inputs)["A"]}, one(b5.hints),
                                                 b5.length[0]))
case("model A vmap", lambda: jax.vmap(model)({**b5.inputs, "A": b6.inputs["A"]}, b5.hints, b5.length))
case("model missing", lambda: model({k: v for k, v in one(b5.inputs).items() if k != "s"}, one(b5.hints),
                                    b5.length[0]))
case("model hint", lambda: model(one(b5.inputs), {**one(b5.hints), "pi_h": one(b6.hints)["pi_h"]}, b5.length[0]))
mixed = eqx.tree_at(lambda b: b.inputs["A"], b5, b6.inputs["A"])
case("score", lambda: eqgat.score(model, mixed))
case("loss jit", lambda: eqx.filter_jit(eqgat.loss)(model, mixed))
case("run_batch length", lambda: eqgat.run_batch(model, eqx.tree_at(lambda b: b.length, b5, b5.length[:1])))
case("loss output", lambda: eqgat.loss(model, eqx.tree_at(lambda b: b.outputs["pi"], b5, b6.outputs["pi"])))
case("other algorithm", lambda: eqgat.loss(model, eqgat.sample("bellman_ford", 5, 2, seed=0)))
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def messages():
    res = subprocess.run([sys.executable, "-c", USER_SESSION], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    line = next(x for x in res.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_gatv2_names_the_argument_and_both_sizes_without_the_jaxtyping_hook(messages):
    assert messages["gatv2 ok"] == "no error"
    v = "ValueError: V has 4 features; this GATv2 has feature_size 3 (V must be [n, feature_size])"
    assert messages["gatv2 V"] == v
    assert messages["gatv2 V jit"] == v  # checked while tracing
    assert messages["gatv2 V vmap"] == v  # per graph, under vmap
    assert messages["gatv2 E"] == ("ValueError: E must be [n, n, feature_size] = [4, 4, 3] (n = 4 from V; "
                                   "this GATv2's feature_size 3), got shape [5, 5, 3]")
    assert messages["gatv2 g"] == "ValueError: g must be [feature_size] = [3] (this GATv2's feature_size 3), got shape [4]"
    assert messages["gatv2 A"] == "ValueError: A must be [n, n] = [4, 4] (n = 4 from V), got shape [5, 5]"
    assert messages["gatv2 H"] == ("ValueError: H has 6 features; this GATv2 has hidden_size 5 "
                                   "(H must be [n, hidden_size])")
    assert "V must be [n, feature_size] = [n, 3] (one graph; batch with jax.vmap), got shape [2, 4, 3]" \
        in messages["gatv2 batched V"]
    assert "H must be [n, hidden_size] = [4, 5]" in messages["gatv2 logits"]
    assert not any("Size of label" in m or "broadcast" in m for m in messages.values()), messages


def test_model_names_the_probe_and_both_sizes_without_the_jaxtyping_hook(messages):
    assert messages["model ok"] == "no error"
    assert messages["model batched"] == (
        "ValueError: inputs['pos'] must be [n] (one graph's node ids), got shape [2, 5] "
        "(a batch: run it with eqgat.run_batch(model, batch) or jax.vmap)")
    a = ("ValueError: inputs['A'] must be [n, n] = [5, 5] (edge scalar probe; n = 5 from inputs['pos']), "
         "got shape [6, 6]")
    assert messages["model A"] == messages["model A jit"] == messages["model A vmap"] == a
    assert messages["model missing"] == ("ValueError: inputs lacks 's', which the bfs model reads "
                                         "(inputs has 'pos', 'A', 'adj')")
    assert messages["model hint"].startswith("ValueError: hints['pi_h'] must be [T, n] = [")
    assert messages["model hint"].endswith("got shape [" + messages["model hint"].rpartition("[")[2])


def test_batch_functions_name_the_array_and_both_sizes_without_the_jaxtyping_hook(messages):
    a = ("ValueError: batch.inputs['A'] must be [b, n, n] = [2, 5, 5] (edge scalar probe; b = 2, n = 5 from "
         "batch.inputs['pos']), got shape [2, 6, 6]")
    assert messages["score"] == messages["loss jit"] == a
    assert messages["run_batch length"] == ("ValueError: batch.length must be [b] = [2] (one trace length per "
                                            "graph; b = 2 from batch.inputs['pos']), got shape [1]")
    assert messages["loss output"] == ("ValueError: batch.outputs['pi'] must be [b, n] = [2, 5] (node pointer "
                                       "probe; b = 2, n = 5 from batch.inputs['pos']), got shape [2, 6]")
    assert messages["other algorithm"].startswith("ValueError: batch.hints lacks 'reach_h', which the bfs model reads")
    assert messages["other algorithm"].endswith("the batch is of 'bellman_ford' graphs)")


# In this process (jaxtyping's hook on): the checks themselves, called directly.

def test_the_checks_in_process_under_jit_and_vmap():
    assert any(type(finder).__module__.startswith("jaxtyping") for finder in sys.meta_path)  # pytest's hook
    layer = eqgat.GATv2(3, 5, key=jax.random.key(0))
    n = 4
    args = [jnp.zeros((n, 3)), jnp.zeros((n, n, 3)), jnp.zeros(3), jnp.eye(n), jnp.zeros((n, 5))]
    assert layer.check_inputs(*args) == n
    with pytest.raises(ValueError, match=r"^V has 4 features; this GATv2 has feature_size 3"):
        jax.jit(lambda *a: layer.check_inputs(*a))(jnp.zeros((n, 4)), *args[1:])
    with pytest.raises(ValueError, match=r"^E must be \[n, n, feature_size\] = \[4, 4, 3\].*got shape \[4, 4, 2\]"):
        jax.vmap(lambda *a: layer.check_inputs(*a))(*(jnp.stack([x] * 2) for x in [args[0], jnp.zeros((n, n, 2)), *args[2:]]))
    out, alpha = jax.jit(jax.vmap(lambda *a: layer(*a)))(*(jnp.stack([x] * 2) for x in args))  # valid shapes pass
    assert out.shape == (2, n, 5) and alpha.shape == (2, 1, n, n)

    model = eqgat.Model(eqgat.ModelConfig("bfs", 8), key=jax.random.key(0))
    batch = eqgat.sample("bfs", 5, 2, seed=0)
    assert check_batch(model, batch, outputs=True) == (2, 5, batch.trace_length)
    bad = eqx.tree_at(lambda b: b.hints["reach_h"], batch, batch.hints["reach_h"][:, :, :4])
    with pytest.raises(ValueError, match=r"^batch.hints\['reach_h'\] must be \[b, T, n\] = \[2, \d+, 5\]"):
        eqgat.run_batch(model, bad)
    with pytest.raises(ValueError, match=r"^hints\['reach_h'\] must be \[T, n\]"):
        jax.vmap(lambda *a: model.check_inputs(*a))(bad.inputs, bad.hints, bad.length)
    assert eqgat.predict(model, batch).outputs["pi"].shape == (2, 5, 5)  # valid batches pass
