"""The weight buffer every backend writes (stage 4) and ``assemble``, which turns it and
the probes (stage 5) into a ``Model``: one pipeline for every program type.

``Weights`` holds the processor's matrices as float64 NumPy buffers, indexed by a
``Layout``'s named directions: rows of W_val/W_skip/W_info are hidden slots, rows of
W_out/W_in/W_edge attention features ζ, columns of W_val/W_skip/W_out/W_in the model's
C = [V | H] (eq. 4; node feature k is column k, hidden slot k column s + k), columns of
W_edge/W_info the edge features E; ω is one row per head (``Layout.nb_heads``).
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..nn import ModelConfig
from ..nn import Model
from ._layout import Layout

#: The processor's linear maps, in the order they are written.
MATRICES = ("W_val", "W_skip", "W_out", "W_in", "W_edge", "W_info")


class Weights:
    """The processor's weights for ``lay``, written term by term by a backend."""

    def __init__(self, lay: Layout):
        s = lay.hidden_size
        self.lay, self.s = lay, s
        self.W = {k: np.zeros((s, 2 * s)) for k in ("W_val", "W_skip", "W_out", "W_in")}
        self.W["W_edge"] = np.zeros((s, s))
        self.W["W_info"] = np.zeros((s, s))
        self.b = {k: np.zeros(s) for k in MATRICES}
        self.omega = np.zeros((lay.nb_heads, lay.head_size))

    def col(self, where: str, k: int) -> int:
        """The column of C = [V | H] of node feature (``"V"``) or hidden slot (``"H"``) ``k``."""
        return k if where == "V" else self.s + k

    def write(self, model: Model, dtype, B: np.ndarray | None = None) -> Model:
        """``model`` with its processor's weights (and the pre-attention bias ``B``, eq. 14,
        when given) set from this buffer; W_info only where the model has it."""
        proc = model.processor
        if B is not None:
            proc = _write(proc, lambda p: p.B, B, dtype)
        for f in MATRICES:
            if f == "W_info" and proc.W_info is None:
                continue
            proc = _write(proc, lambda p, f=f: getattr(p, f).weight, self.W[f], dtype)
            proc = _write(proc, lambda p, f=f: getattr(p, f).bias, self.b[f], dtype)
        proc = _write(proc, lambda p: p.omega, self.omega, dtype)
        return eqx.tree_at(lambda m: m.processor, model, proc)


def _zeros_like(skeleton: Model, dtype) -> Model:
    """``skeleton`` (a model of shapes, from ``eqx.filter_eval_shape``) with zero weights."""
    return jax.tree.map(lambda x: jnp.zeros(x.shape, dtype) if isinstance(x, jax.ShapeDtypeStruct) else x, skeleton)


def _write(model: eqx.Module, where, value, dtype) -> eqx.Module:
    return eqx.tree_at(where, model, jnp.asarray(np.asarray(value), dtype=dtype))


def assemble(config: ModelConfig, weights: Weights, probes: Callable[[Model], Model], dtype,
             B: np.ndarray | None = None) -> Model:
    """The compiled model: the zero skeleton of ``config`` (shapes only, no random
    weights), its processor written from ``weights`` (and ``B``), then ``probes(model)``
    writing the encoders and decoders (stage 5)."""
    skeleton = eqx.filter_eval_shape(lambda: Model(config, key=jax.random.key(0)))
    model = weights.write(_zeros_like(skeleton, dtype), dtype, B)
    return probes(model)


def write_encoder(model: Model, probe: str, row: int, dtype) -> Model:
    """Encoder ``probe`` writes its input into feature ``row`` (of V or E) alone."""
    unit = np.zeros((model.hidden_size, 1))
    unit[row, 0] = 1.0
    return _write(model, lambda m: m.encoders[probe].W.weight, unit, dtype)


def write_pointer_decoder(model: Model, probe: str, pointer: list[tuple[int, float]], idx: int, c: float, B: float,
                          dtype) -> Model:
    """The pointer decoder of ``probe`` by eq. 31 through eqs. 27-29: p1 = [π_i, π_i, -B],
    p2 = [x_j, -B, x_j], max = [max(π_i, x_j), π_i, x_j], logit = -c·(2·max - π_i - x_j).
    ``pointer``: π_i as (column of h_t = [V | H_prev | H_new], coefficient) pairs;
    ``idx``: the id's column (in V); ``B`` exceeds every id and pointer."""
    s = model.hidden_size
    W1, b1 = np.zeros((s, 3 * s)), np.zeros(s)
    W2, b2 = np.zeros((s, 3 * s)), np.zeros(s)
    for col, coeff in pointer:
        W1[0, col] += coeff
        W1[1, col] += coeff
    b1[2] = -B
    W2[0, idx] = 1.0
    b2[1] = -B
    W2[2, idx] = 1.0
    W3 = np.zeros((1, s))
    W3[0, :3] = [-2 * c, c, c]
    for f, W, b in (("W1", W1, b1), ("W2", W2, b2)):
        model = _write(model, lambda m, f=f: getattr(m.decoders[probe], f).weight, W, dtype)
        model = _write(model, lambda m, f=f: getattr(m.decoders[probe], f).bias, b, dtype)
    return _write(model, lambda m: m.decoders[probe].W3.weight, W3, dtype)
