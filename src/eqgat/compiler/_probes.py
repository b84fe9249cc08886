"""Stage 5: encoders (probes into V and E) and decoders (the hidden state out to probes)."""

import jax.numpy as jnp
import numpy as np

from .._model import Model
from ..lang import Flag, Scalar
from ._analyse import Plan
from ._constants import Constants
from ._layout import Layout
from ._processor import _write


def compile_encoders(plan: Plan, lay: Layout, model: Model, dtype=jnp.float32) -> Model:
    """Stage 5a: ids and start flags into V, the expr's edge inputs into E; with an
    incumbent also the adjacency and the fed-back parent pointer (a one-hot edge feature).
    Every other encoder stays zero."""
    s = lay.hidden_size

    def unit(i):
        w = np.zeros((s, 1))
        w[i, 0] = 1.0
        return w

    model = _write(model, lambda m: m.encoders[plan.program.idx].W.weight, unit(lay.v("idx")), dtype)
    if plan.start:
        model = _write(model, lambda m: m.encoders[plan.start].W.weight, unit(lay.v("start")), dtype)
    for e in plan.edge_inputs:
        model = _write(model, lambda m, e=e: m.encoders[e].W.weight, unit(lay.e(f"edge:{e}")), dtype)
    if plan.incumbent:
        model = _write(model, lambda m: m.encoders[plan.adj].W.weight, unit(lay.e(f"edge:{plan.adj}")), dtype)
        if "edge:parent" in lay.E:  # the general mechanism's parent bonus reads it
            model = _write(model, lambda m: m.encoders[plan.parent_hint].W.weight, unit(lay.e("edge:parent")), dtype)
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
        else:
            # eq. 31 through eqs. 27-29: p1 = [π_i, π_i, -B], p2 = [x_j, -B, x_j],
            # max = [max(π_i, x_j), π_i, x_j], logit = -c·(2·max - π_i - x_j).
            W1, b1 = np.zeros((s, 3 * s)), np.zeros(s)
            W2, b2 = np.zeros((s, 3 * s)), np.zeros(s)
            new_value(W1, 0, comp)
            new_value(W1, 1, comp)
            b1[2] = -B
            W2[0, lay.v("idx")] = 1.0
            b2[1] = -B
            W2[2, lay.v("idx")] = 1.0
            W3 = np.zeros((1, s))
            W3[0, :3] = [-2 * c, c, c]
            for f, W, b in (("W1", W1, b1), ("W2", W2, b2)):
                model = _write(model, lambda m, p=probe, f=f: getattr(m.decoders[p], f).weight, W, dtype)
                model = _write(model, lambda m, p=probe, f=f: getattr(m.decoders[p], f).bias, b, dtype)
            model = _write(model, lambda m, p=probe: m.decoders[p].W3.weight, W3, dtype)
    return model
