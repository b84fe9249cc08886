"""Encoders: each probe's data becomes node, edge or graph features (eq. 26: v = W v̂).

Every encoder is one linear map from the probe's raw value (a scalar, or the category
vector of a categorical probe) to the feature size; the encodings of all probes at a
location are summed. Node pointers become one-hot (or, for fed-back predictions, soft)
n×n matrices and are encoded as *edge* features, and they add their edges to the
adjacency used by attention, exactly as dm-clrs does.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ._edges import EdgeSum, Edges
from ._linear import affine, linear
from ..probes import Location, Probe, Stage, Type


class Features(eqx.Module):
    """The encoded inputs of one message-passing step of one graph: what the processor and
    the decoders read.

    **Arguments:**

    - `V`: node features ``[n, f]``.
    - `E`: edge features ``[i, j, f]``, dense, or inside the steps an ``EdgeSum`` (see
      ``eqgat.nn._edges``).
    - `g`: graph features ``[f]``.
    - `A`: the adjacency attention runs along ``[i, j]``: the identity, plus the edges of
      edge-mask inputs and of pointers.
    """

    V: Float[Array, "n f"]
    E: Edges
    g: Float[Array, " f"]
    A: Float[Array, "n n"]


def empty_features(n: int, f: int) -> Features:
    """No features yet; the adjacency starts as the identity (every node sees itself)."""
    return Features(jnp.zeros((n, f)), jnp.zeros((n, n, f)), jnp.zeros((f,)), jnp.eye(n))


class Encoder(eqx.Module):
    """The encoder of one probe (eq. 26: v = W v̂): a linear map from the probe's raw value
    (a scalar, or a categorical's k classes) to the feature size, added to the features of
    its location. Node pointers are one-hot (or soft) n×n matrices and encoded as *edge*
    features, adding their edges to the adjacency, as dm-clrs does.

    **Arguments:**

    - `probe`: the ``Probe`` it encodes.
    - `feature_size`: f.
    - `xavier_on_scalars`: dm-clrs' 1/sqrt(f) initialisation for scalar hints.
    - `key`: a ``jax.random.key``.
    """

    W: eqx.nn.Linear
    probe: Probe = eqx.field(static=True)

    def __init__(self, probe: Probe, feature_size: int, *, xavier_on_scalars: bool, key: PRNGKeyArray):
        if probe.type == Type.POINTER and probe.location != Location.NODE:
            raise NotImplementedError(f"{probe.location} pointers are not supported ({probe.name})")
        # dm-clrs' `xavier_on_scalars` gives scalar *hints* a 1/sqrt(hidden) init.
        stddev = None
        if xavier_on_scalars and probe.stage == Stage.HINT and probe.type == Type.SCALAR:
            stddev = 1.0 / feature_size**0.5
        self.W = linear(probe.dim, feature_size, key=key, stddev=stddev)
        self.probe = probe

    def __call__(self, x: Float[Array, "..."], feats: Features) -> Features:
        """Add this probe's encoding of ``x`` to ``feats``.

        **Arguments:**

        - `x`: the probe's value in soft form: node ``[n]``, edge ``[i, j]``, graph ``[]``,
          categoricals ``[n, k]``, node pointers as rows of probabilities ``[i, j]``.
        - `feats`: the ``Features`` so far.

        **Returns:**

        ``feats`` with the encoding added (and, for pointers and edge masks, their edges
        added to ``A``).
        """
        p = self.probe
        raw = x if p.type == Type.CATEGORICAL else x[..., None]
        if p.location == Location.EDGE or p.type == Type.POINTER:  # node pointers are n×n: edge features
            # kept as a term when E is an EdgeSum (no n×n×f array; eqgat.nn._edges)
            E = feats.E.add(raw, self.W) if isinstance(feats.E, EdgeSum) else feats.E + affine(self.W, raw)
            A = feats.A
            if p.type == Type.POINTER:
                A = jnp.maximum(A, ((x + x.T) > 0.5).astype(x.dtype))
            elif p.type == Type.MASK:
                A = jnp.maximum(A, ((x + x.T) > 0.0).astype(x.dtype))
            return Features(feats.V, E, feats.g, A)
        enc = affine(self.W, raw)
        if p.location == Location.NODE:
            return Features(feats.V + enc, feats.E, feats.g, feats.A)
        return Features(feats.V, feats.E, feats.g + enc, feats.A)


def to_soft(probe: Probe, x: Array, n: int) -> Float[Array, "..."]:
    """A ground-truth probe value in the form encoders take: pointers (stored as node
    indices) become one-hot n×n matrices, everything else JAX's default float."""
    dtype = jnp.result_type(float)  # float32, or float64 under jax_enable_x64
    if probe.type == Type.POINTER:
        return jax.nn.one_hot(x.astype(jnp.int32), n, dtype=dtype)
    return x.astype(dtype)
