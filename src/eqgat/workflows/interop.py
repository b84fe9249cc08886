"""Interoperation with dm-clrs: convert a trained ``clrs.models.BaselineModel`` (processor
``gatv2``) into an eqgat ``Model``, read the pickles its ``save_model`` writes (dm-clrs
2.0.3's and the paper authors' fork's, switches included: ``load_clrs_checkpoint``), and
predict in dm-clrs' own output format.

``load_clrs_checkpoint`` and ``from_clrs`` need no dm-clrs; ``predict`` imports it (the
extra ``pip install 'eqgat[clrs]'``).

This module is also eqgat's proof of correctness: with converted weights, eqgat's outputs
and hints equal dm-clrs' (``tests/test_interop.py``).
"""

import pickle
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..nn import ModelConfig
from .._extras import import_clrs
from .._quiet import quiet_clrs as quiet_clrs  # noqa: F401  (for the command lines)
from ..nn import postprocess
from ..nn import Model
from ..probes import Stage
from ..algorithms import get_spec, registered
from ..data import from_clrs as batch_from_clrs

_PROC = "net/gatv2_aggr_clrs_processor/"
_ENC = "net/~_construct_encoders_decoders/algo_0_"


def _algorithm_of(spec: dict) -> str:
    for alg in registered():
        if {p.name: (p.stage, p.location, p.type) for p in alg.spec} == dict(spec):
            return alg.name
    raise ValueError(f"the model's spec matches none of eqgat's algorithms: {dict(spec)}")


def from_clrs(model: Any, *, full_attention: bool = False) -> Model:
    """The eqgat ``Model`` computing what ``model`` (a single-algorithm dm-clrs
    ``BaselineModel`` with processor ``gatv2``, 1 head, ``use_ln=True``, initialised or
    trained) computes. dm-clrs' ``gatv2_full`` has ``gatv2``'s parameters under the same
    names and nothing in the model says which it is: pass ``full_attention=True`` for it."""
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
    config = ModelConfig(algorithm, s, 1, encode_hints=encode_hints, decode_hints=model.decode_hints,
                         full_attention=full_attention)
    arrays = {m: {k: np.asarray(v) for k, v in p.items()} for m, p in params.items()}
    return model_from_params(arrays, config, source="the dm-clrs model")


class _Opaque:
    """Stands in for any class a pickle names besides NumPy's (optimiser states, JAX
    arrays' helpers): ``load_clrs_checkpoint`` reads only the parameters."""

    def __init__(self, *args, **kwargs):
        self.args = args

    def __setstate__(self, state):
        self.state = state


class _ParamsUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays (and JAX arrays, as NumPy) without importing dm-clrs,
    Haiku, optax or TensorFlow: every other class becomes an ``_Opaque`` placeholder."""

    _NUMPY = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
              ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
              ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) in self._NUMPY:
            return super().find_class(module, name)
        if (module, name) == ("jax._src.array", "_reconstruct_array"):
            return lambda fun, args, arr_state, aval_state: np.asarray(_opaque_call(fun, args, arr_state))
        return type(name, (_Opaque,), {})


def _opaque_call(fun, args, arr_state):
    """JAX pickles an array as (``np.asarray``-like fun, args, state); read the NumPy array."""
    for x in (*args, arr_state):
        if isinstance(x, np.ndarray):
            return x
    raise ValueError("a JAX array in the pickle could not be read as NumPy")


#: dm-clrs 2.0.3's processor linears in creation order, and the fork's names for them.
_DMCLRS_PROC = ["linear", "linear_1", "linear_2", "linear_3", "linear_4", "linear_5"]
_FORK_PROC = ["value", "skip", "Wp_1", "Wp_2", "We", "Wg"]
_PROC_FIELDS = ["W_val", "W_skip", "W_out", "W_in", "W_edge", "W_meta"]


def read_clrs_params(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """The Haiku parameters (``module -> name -> array``) of a ``BaselineModel.save_model``
    pickle, read without dm-clrs or TensorFlow; a clear error for anything else."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with open(path, "rb") as f:
            saved = _ParamsUnpickler(f).load()
    except Exception as err:
        raise ValueError(f"{path} is not a dm-clrs save_model pickle: it does not unpickle ({err})") from err
    params = saved.get("params") if isinstance(saved, dict) else None
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise ValueError(f"{path} is not a dm-clrs save_model pickle: no 'params' dict of Haiku modules")
    return {m: {k: np.asarray(v) for k, v in p.items()} for m, p in params.items()}


def load_clrs_checkpoint(path: str | Path, *, algorithm: str | None = None, hidden_size: int | None = None,
                         nb_heads: int = 1, use_ln: bool = True, use_edge_info: bool = False,
                         use_pre_att_bias: bool = False, nb_nodes: int | None = None, encode_hints: bool = True,
                         decode_hints: bool = True, config: ModelConfig | None = None) -> Model:
    """The eqgat ``Model`` of a ``BaselineModel.save_model`` pickle from dm-clrs 2.0.3 or
    from the paper authors' fork (its GATv2 switches included). The pickle does not store
    the architecture, so the caller names it (keywords, or ``config``).

    Both naming schemes are recognised: dm-clrs' unnamed processor linears (``linear``,
    ``linear_1`` ... in creation order: values, skip, sender, receiver, edges, graph, then
    one per head) and the fork's (``value``, ``skip``, ``Wp_1`` sender, ``Wp_2`` receiver,
    ``We``, ``Wg``, ``a_k`` per head, ``pre_att_bias``). The fork's edge information has no
    weights: it adds Σ_j α_ij E_ij[0] (channel 0 of the encoded edge features) to channel
    0 of every head's selected values, which is eqgat's ``W_info`` with weight 1 from
    channel 0 to each head's channel 0, every other weight and the bias 0. A pickle that
    does not match the named architecture is an error naming the first parameter that
    differs and its shape."""
    if config is None:
        if algorithm is None or hidden_size is None:
            raise ValueError("name the architecture: algorithm= and hidden_size= (or config=ModelConfig(...))")
        config = ModelConfig(algorithm, hidden_size, nb_heads, use_ln=use_ln, use_edge_info=use_edge_info,
                             use_pre_att_bias=use_pre_att_bias, nb_nodes=nb_nodes, encode_hints=encode_hints,
                             decode_hints=decode_hints)
    return model_from_params(read_clrs_params(path), config, source=str(path))


def model_from_params(params: dict[str, dict[str, np.ndarray]], config: ModelConfig, *, source: str) -> Model:
    """The eqgat ``Model`` of ``config`` holding dm-clrs / fork Haiku ``params`` (module ->
    name -> array), both naming schemes; a ``ValueError`` naming the first parameter that
    does not match (``source`` says where the parameters came from)."""
    fork = (_PROC + "value") in params
    names = _FORK_PROC if fork else _DMCLRS_PROC
    heads = [f"a_{d}" for d in range(config.nb_heads)] if fork else \
        [f"linear_{6 + d}" for d in range(config.nb_heads)]
    m = Model(config, key=jax.random.key(0))
    expected = {}  # Haiku name -> (field getter, shape in Haiku's [in, out] layout)

    def want(hk: str, getter, layer: eqx.nn.Linear):
        expected[hk] = (getter, {"w": tuple(layer.weight.shape[::-1]), "b": tuple(layer.bias.shape)})

    for name, enc in m.encoders.items():
        want(f"{_ENC}{name}_enc_linear", lambda mm, n=name: mm.encoders[n].W, enc.W)
    for name, dec in m.decoders.items():
        fields = {"NodeDecoder": ["W"], "PointerDecoder": ["W1", "W2", "W_e", "W3"], "GraphDecoder": ["W_n", "W_g"]}[type(dec).__name__]
        for i, field in enumerate(fields):
            want(f"{_ENC}{name}_dec_linear" + (f"_{i}" if i else ""),
                 lambda mm, n=name, f=field: getattr(mm.decoders[n], f), getattr(dec, field))
    for hk, field in zip(names, _PROC_FIELDS):
        want(_PROC + hk, lambda mm, f=field: getattr(mm.processor, f), getattr(m.processor, field))
    head_size = config.hidden_size // config.nb_heads
    shapes = {**{k: v[1] for k, v in expected.items()}, **{_PROC + h: {"w": (head_size, 1), "b": (1,)} for h in heads}}
    if config.use_ln:
        shapes[_PROC + "layer_norm"] = {"offset": (config.hidden_size,), "scale": (config.hidden_size,)}
    if config.use_pre_att_bias:
        shapes[_PROC + "pre_att_bias"] = {"b": (config.nb_nodes, config.nb_nodes)}
    _check_shapes(source, params, shapes)

    for hk, (getter, _) in expected.items():
        p = params[hk]
        m = eqx.tree_at(lambda mm, g=getter: (g(mm).weight, g(mm).bias), m, (jnp.asarray(p["w"]).T, jnp.asarray(p["b"])))
    omega = jnp.stack([jnp.asarray(params[_PROC + h]["w"])[:, 0] for h in heads])
    omega_bias = jnp.concatenate([jnp.asarray(params[_PROC + h]["b"]) for h in heads])
    m = eqx.tree_at(lambda mm: (mm.processor.omega, mm.processor.omega_bias), m, (omega, omega_bias))
    if config.use_ln:
        ln = params[_PROC + "layer_norm"]
        m = eqx.tree_at(lambda mm: (mm.processor.layer_norm.weight, mm.processor.layer_norm.bias), m,
                        (jnp.asarray(ln["scale"]), jnp.asarray(ln["offset"])))
    if config.use_pre_att_bias:
        m = eqx.tree_at(lambda mm: mm.processor.B, m, jnp.asarray(params[_PROC + "pre_att_bias"]["b"]))
    if config.use_edge_info:
        if not fork:
            raise ValueError(f"{source} is a dm-clrs pickle, and dm-clrs' GATv2 has no edge information: "
                             "load it with use_edge_info=False")
        W = np.zeros(m.processor.W_info.weight.shape, np.float32)
        W[np.arange(config.nb_heads) * head_size, 0] = 1.0  # channel 0 -> each head's channel 0
        m = eqx.tree_at(lambda mm: (mm.processor.W_info.weight, mm.processor.W_info.bias), m,
                        (jnp.asarray(W), jnp.zeros_like(m.processor.W_info.bias)))
    return m


def _check_shapes(source, params: dict, shapes: dict) -> None:
    """A ``ValueError`` naming the first parameter of ``shapes`` that ``params`` lacks or
    holds with another shape, and any parameter ``params`` has beyond them."""
    for module, arrays in shapes.items():
        for name, shape in arrays.items():
            got = params.get(module, {}).get(name)
            if got is None:
                raise ValueError(f"{source} does not match the named architecture: it has no {module}/{name} "
                                 f"(expected shape {shape})")
            if tuple(got.shape) != tuple(shape):
                raise ValueError(f"{source} does not match the named architecture: {module}/{name} has shape "
                                 f"{tuple(got.shape)}, expected {tuple(shape)}")
    if extra := sorted(set(params) - set(shapes)):
        raise ValueError(f"{source} does not match the named architecture: it has parameters the architecture does "
                         f"not, first {extra[0]} {({k: v.shape for k, v in params[extra[0]].items()})} "
                         "(more heads, other switches or another algorithm?)")


@eqx.filter_jit
def _run(model: Model, batch):
    # every step, padding included: dm-clrs decodes hints at all T-1 steps of its features
    return jax.vmap(model)(batch.inputs, batch.hints, batch.length)


def predict(model: Model, features: Any, *, return_hints: bool = False):
    """What ``BaselineModel.predict(key, features, return_hints=...)`` returns, computed by
    the eqgat ``model``: a dict of hard-postprocessed output ``DataPoint``s and, with
    ``return_hints``, a list (one per step) of dicts of raw hint logits ``[b, ...]``
    (else ``None``)."""
    probing = import_clrs("clrs._src.probing", needed_by="eqgat.workflows.interop.predict")
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
