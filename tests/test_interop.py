"""eqgat equals dm-clrs: converted BaselineModel(gatv2) weights give the same outputs,
hints and loss, for every algorithm eqgat supports, at n=16 and n=64."""

import jax
import numpy as np
import pytest

import eqgat
from eqgat import data
from eqgat.workflows import interop

clrs = pytest.importorskip("clrs", reason="dm-clrs is the extra eqgat[clrs] (the test extra installs it)")

TOL = 1e-4


def _clrs_model(algo, n, hidden, seed=0, batch=4, processor="gatv2"):
    sampler, spec = clrs.build_sampler(algo, num_samples=-1, length=n, seed=seed, p=(0.2, 0.5))
    fb = sampler.next(batch)
    model = clrs.models.BaselineModel(
        spec=spec, dummy_trajectory=fb,
        processor_factory=clrs.get_processor_factory(processor, use_ln=True, nb_heads=1, nb_triplet_fts=0),
        hidden_dim=hidden, encode_hints=True, decode_hints=True, encoder_init="xavier_on_scalars",
        learning_rate=1e-3, grad_clip_max_norm=1.0,
    )
    model.init(fb.features, seed + 42)
    return model, sampler, fb


def _max_diff(ref, ours):
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(ref, ours, strict=True))


# n = 64 under -m slow (15-60 s each: dm-clrs' own model compiles the long traces); n = 16 runs every time
@pytest.mark.parametrize(("algo", "n"), [("bfs", 16), pytest.param("bfs", 64, marks=pytest.mark.slow),
                                         ("bellman_ford", 16), pytest.param("bellman_ford", 64, marks=pytest.mark.slow),
                                         ("dfs", 16), pytest.param("dfs", 64, marks=pytest.mark.slow)])
def test_predict_matches_dm_clrs(algo, n):
    model, sampler, fb = _clrs_model(algo, n, hidden=16)
    if n == 16 and algo != "dfs":  # trained weights too, not only an initialisation (DFS: its
        # training step compiles for ~30 s; the conversion is the same code as BFS's)
        for _ in range(2):
            model.feedback(jax.random.key(1), sampler.next(4))
    ref_out, ref_hints = model.predict(jax.random.key(0), fb.features, return_hints=True)
    ours = interop.from_clrs(model)
    out, hints = interop.predict(ours, fb.features, return_hints=True)
    assert set(out) == set(ref_out)
    for k in ref_out:
        assert out[k].location == ref_out[k].location and out[k].type_ == ref_out[k].type_
        np.testing.assert_array_equal(np.asarray(out[k].data), np.asarray(ref_out[k].data))
    assert len(hints) == len(ref_hints)
    for ref_t, our_t in zip(ref_hints, hints, strict=True):
        assert set(ref_t) == set(our_t)
        for k in ref_t:
            assert np.asarray(our_t[k]).shape == np.asarray(ref_t[k]).shape
            np.testing.assert_allclose(np.asarray(our_t[k]), np.asarray(ref_t[k]), atol=TOL, rtol=TOL)
    # the training loss too, on time-padded data
    batch = data.from_clrs(algo, fb.features, fb.outputs, trace_length=eqgat.max_trace_length(algo, n))
    ref_loss = float(model._loss(model.params, jax.random.key(0), fb, 0))
    assert abs(float(eqgat.loss(ours, batch)) - ref_loss) <= TOL * max(1.0, abs(ref_loss))


def test_full_attention_matches_dm_clrs_gatv2_full():
    """ModelConfig.full_attention is dm-clrs' gatv2_full: attention over all nodes (sparse
    graphs, so that it matters), and not what gatv2 computes on the same weights."""
    model, _, fb = _clrs_model("bfs", 12, hidden=16, processor="gatv2_full")
    ref_out, ref_hints = model.predict(jax.random.key(0), fb.features, return_hints=True)
    full = interop.from_clrs(model, full_attention=True)
    assert full.config.full_attention and full.processor.full_attention
    _, hints = interop.predict(full, fb.features, return_hints=True)
    for ref_t, our_t in zip(ref_hints, hints, strict=True):
        for k in ref_t:
            np.testing.assert_allclose(np.asarray(our_t[k]), np.asarray(ref_t[k]), atol=TOL, rtol=TOL)
    _, masked = interop.predict(interop.from_clrs(model), fb.features, return_hints=True)
    assert _max_diff([h["pi_h"] for h in ref_hints], [h["pi_h"] for h in masked]) > 10 * TOL


def test_predict_without_hints_returns_none():
    model, _, fb = _clrs_model("bfs", 8, hidden=8)
    _, ref_hints = model.predict(jax.random.key(0), fb.features)
    out, hints = interop.predict(interop.from_clrs(model), fb.features)
    assert ref_hints is None and hints is None and "pi" in out


@pytest.mark.parametrize("algo", eqgat.ALGORITHMS)
def test_spec_tables_match_dm_clrs(algo):
    ours = {p.name: (p.stage, p.location, p.type) for p in eqgat.get_spec(algo)}
    assert ours == dict(clrs.SPECS[algo])


def test_clrs30_constants_match():
    from eqgat.data import CLRS30

    assert CLRS30 == {k: dict(v) for k, v in clrs.CLRS30.items()}


def test_from_clrs_rejects_other_processors():
    sampler, spec = clrs.build_sampler("bfs", num_samples=-1, length=6, seed=0)
    fb = sampler.next(2)
    model = clrs.models.BaselineModel(
        spec=spec, dummy_trajectory=fb, hidden_dim=8, encode_hints=True, decode_hints=True,
        processor_factory=clrs.get_processor_factory("mpnn", use_ln=True, nb_heads=1, nb_triplet_fts=0),
    )
    model.init(fb.features, 0)
    with pytest.raises(ValueError, match="gatv2"):
        interop.from_clrs(model)
