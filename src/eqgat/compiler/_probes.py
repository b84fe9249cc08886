"""Stage 5: encoders (probes into V and E) and decoders (the hidden state out to probes)."""

import jax.numpy as jnp
import numpy as np

from ..nn import Model
from ..lang import Flag, Scalar
from ._analyse import Plan
from ._constants import Constants
from ._layout import Layout
from ._weights import _write, write_encoder, write_pointer_decoder


def compile_encoders(plan: Plan, lay: Layout, model: Model, dtype=jnp.float32) -> Model:
    """Stage 5a: ids and start flags into V, the expr's edge inputs into E; with an
    incumbent also the adjacency and the fed-back parent pointer (a one-hot edge feature).
    Every other encoder stays zero."""
    model = write_encoder(model, plan.program.idx, lay.v("idx"), dtype)
    if plan.start:
        model = write_encoder(model, plan.start, lay.v("start"), dtype)
    for e in plan.edge_inputs:
        model = write_encoder(model, e, lay.e(f"edge:{e}"), dtype)
    if plan.incumbent:
        model = write_encoder(model, plan.adj, lay.e(f"edge:{plan.adj}"), dtype)
        if "edge:parent" in lay.E:  # the general mechanism's parent bonus reads it
            model = write_encoder(model, plan.parent_hint, lay.e("edge:parent"), dtype)
    return model


def compile_decoders(plan: Plan, lay: Layout, model: Model, const: Constants, dtype=jnp.float32) -> Model:
    """Stage 5b: decoders read h_t = [V | H_prev | H_new]; the new state starts at 2s."""
    s = lay.hidden_size
    new = lambda comp: [2 * s + j for j in lay.slots(comp)]  # noqa: E731
    G, c, B = const.G_flag, const.C_pointer, const.B_pointer

    def new_value(W, row, comp):  # the component's new value, read from h_t
        for where, k, sign in lay.terms(comp):
            W[row, k if where == "V" else 2 * s + k] += sign

    for probe, comp in plan.program.probes.items():
        kind = plan.program.hidden[comp]
        if isinstance(kind, Flag):
            W = np.zeros((1, 3 * s))
            W[0, new(comp)] = G
            if plan.start:
                W[0, lay.v("start")] = G
            model = _write(model, lambda m, p=probe: m.decoders[p].W.weight, W, dtype)
            model = _write(model, lambda m, p=probe: m.decoders[p].W.bias, np.array([-G / 2]), dtype)
        elif isinstance(kind, Scalar):
            W = np.zeros((1, 3 * s))
            new_value(W, 0, comp)
            model = _write(model, lambda m, p=probe: m.decoders[p].W.weight, W, dtype)
        else:  # eq. 31 (``write_pointer_decoder``)
            pointer = [(k if where == "V" else 2 * s + k, sign) for where, k, sign in lay.terms(comp)]
            model = write_pointer_decoder(model, probe, pointer, lay.v("idx"), c, B, dtype)
    return model
