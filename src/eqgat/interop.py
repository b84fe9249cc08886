"""Interoperation with dm-clrs: convert a trained ``clrs.models.BaselineModel`` (processor
``gatv2``) into an eqgat ``Model``, and predict in dm-clrs' own output format.

This module is also eqgat's proof of correctness: with converted weights, eqgat's outputs
and hints equal dm-clrs' (``tests/test_interop.py``).
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ._config import ModelConfig
from ._decoders import postprocess
from ._model import Model
from ._spec import Stage, get_spec
from .data import from_clrs as batch_from_clrs

_PROC = "net/gatv2_aggr_clrs_processor/"
_ENC = "net/~_construct_encoders_decoders/algo_0_"


def _lin(params: dict, name: str, layer: eqx.nn.Linear) -> eqx.nn.Linear:
    """A Haiku linear's params ([in, out] weight) written into an Equinox one ([out, in])."""
    p = params[name]
    w, b = jnp.asarray(p["w"]).T, jnp.asarray(p["b"])
    if w.shape != layer.weight.shape:
        raise ValueError(f"{name}: weight shape {w.shape} != expected {layer.weight.shape}")
    return eqx.tree_at(lambda l: (l.weight, l.bias), layer, (w, b))


def _algorithm_of(spec: dict) -> str:
    from ._spec import SPECS

    for name, probes in SPECS.items():
        if {p.name: (p.stage, p.location, p.type) for p in probes} == dict(spec):
            return name
    raise ValueError(f"the model's spec matches none of eqgat's algorithms: {dict(spec)}")


def from_clrs(model: Any) -> Model:
    """The eqgat ``Model`` computing what ``model`` (a single-algorithm dm-clrs
    ``BaselineModel`` with processor ``gatv2``, 1 head, ``use_ln=True``, initialised or
    trained) computes."""
    params = model.params
    if params is None:
        raise ValueError("the dm-clrs model has no parameters yet: call model.init(...) first")
    if len(model._spec) != 1:
        raise ValueError("only single-algorithm dm-clrs models can be converted")
    if not any(k.startswith(_PROC) for k in params):
        raise ValueError("only dm-clrs models with processor 'gatv2' can be converted")
    heads = [k for k in params if k.startswith(_PROC + "linear_") and int(k.rsplit("_", 1)[1]) >= 6]
    if len(heads) != 1:
        raise ValueError(f"only 1-head gatv2 models are supported, found {len(heads)} heads")
    if _PROC + "layer_norm" not in params:
        raise ValueError("only gatv2 models with use_ln=True are supported")
    algorithm = _algorithm_of(model._spec[0])
    s = params[_PROC + "linear"]["w"].shape[1]
    hint_probes = [p for p in get_spec(algorithm) if p.stage == Stage.HINT]
    encode_hints = any(f"{_ENC}{p.name}_enc_linear" in params for p in hint_probes)
    decode_hints = model.decode_hints
    m = Model(ModelConfig(algorithm, s, 1, encode_hints=encode_hints, decode_hints=decode_hints), key=jax.random.key(0))

    for name in m.encoders:
        m = eqx.tree_at(lambda mm, n=name: mm.encoders[n].W, m, _lin(params, f"{_ENC}{name}_enc_linear", m.encoders[name].W))
    for name, dec in m.decoders.items():
        prefix = f"{_ENC}{name}_dec_linear"
        fields = {"NodeDecoder": ["W"], "PointerDecoder": ["W1", "W2", "W_e", "W3"], "GraphDecoder": ["W_n", "W_g"]}[type(dec).__name__]
        for i, field in enumerate(fields):
            hk_name = prefix if i == 0 else f"{prefix}_{i}"
            m = eqx.tree_at(lambda mm, n=name, f=field: getattr(mm.decoders[n], f), m, _lin(params, hk_name, getattr(dec, field)))
    proc = m.processor
    # dm-clrs' GATv2 creates its linears in this order: values, skip, sender, receiver,
    # edges, graph, then one head.
    for i, field in enumerate(["W_val", "W_skip", "W_out", "W_in", "W_edge", "W_meta"]):
        hk_name = _PROC + ("linear" if i == 0 else f"linear_{i}")
        proc = eqx.tree_at(lambda p, f=field: getattr(p, f), proc, _lin(params, hk_name, getattr(proc, field)))
    head = params[heads[0]]
    proc = eqx.tree_at(lambda p: (p.omega, p.omega_bias), proc, (jnp.asarray(head["w"]).T, jnp.asarray(head["b"])))
    ln = params[_PROC + "layer_norm"]
    proc = eqx.tree_at(lambda p: (p.layer_norm.weight, p.layer_norm.bias), proc, (jnp.asarray(ln["scale"]), jnp.asarray(ln["offset"])))
    return eqx.tree_at(lambda mm: mm.processor, m, proc)


@eqx.filter_jit
def _run(model: Model, batch):
    # every step, padding included: dm-clrs decodes hints at all T-1 steps of its features
    return jax.vmap(model)(batch.inputs, batch.hints, batch.length)


def predict(model: Model, features: Any, *, return_hints: bool = False):
    """What ``BaselineModel.predict(key, features, return_hints=...)`` returns, computed by
    the eqgat ``model``: a dict of hard-postprocessed output ``DataPoint``s and, with
    ``return_hints``, a list (one per step) of dicts of raw hint logits ``[b, ...]``
    (else ``None``)."""
    from clrs._src import probing

    batch = batch_from_clrs(model.algorithm, features)
    pred = _run(model, batch)
    spec = {p.name: p for p in model.spec}
    outs = {
        name: probing.DataPoint(name=name, location=spec[name].location, type_=spec[name].type,
                                data=postprocess(spec[name], logits, hard=True))
        for name, logits in pred.outputs.items()
    }
    if not return_hints:
        return outs, None
    steps = max(1, batch.trace_length - 1)
    hints = [{k: v[:, t] for k, v in pred.hints.items()} for t in range(steps)]
    return outs, hints
