"""Decoders: node, pointer and graph read-outs of the hidden state (appendix A.1).

Decoders read h_t = [V | H_prev | H_new] (n × 3s), the edge features E and the graph
features g, as dm-clrs does.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from einops import einsum, rearrange
from jaxtyping import Array, Float, PRNGKeyArray

from ._edges import Edges, project
from ._linear import affine, linear
from ..probes import Location, Probe, Type

#: c of the simplified pointer decoder, logits = -c·max(p1, p2) (table 3's
#: ``simplify_decoders``); as in eq. 31 it turns a distance into a sharp softmax.
SIMPLE_POINTER_SCALE = 1e3


class NodeDecoder(eqx.Module):
    """The decoder of a node scalar, mask, mask_one (one logit per node) or categorical (k
    logits): one linear map of h_t.

    **Arguments:**

    - `probe`: the ``Probe`` it decodes.
    - `in_size`: the width of h_t = [V | H_prev | H_new] (3s in a ``Model``).
    - `key`: a ``jax.random.key``.
    """

    W: eqx.nn.Linear
    probe: Probe = eqx.field(static=True)

    def __init__(self, probe: Probe, in_size: int, *, key: PRNGKeyArray):
        self.W = linear(in_size, probe.dim, key=key)
        self.probe = probe

    def __call__(self, h: Float[Array, "n t"], E: Edges, g: Float[Array, " f"]) -> Array:
        """**Arguments:**

        - `h`: h_t = [V | H_prev | H_new], ``[n, 3s]``.
        - `E`, `g`: the edge and graph features (not read; the decoders share a signature).

        **Returns:**

        Logits ``[n]`` (categoricals ``[n, k]``).
        """
        out = affine(self.W, h)
        return out if self.probe.type == Type.CATEGORICAL else out[:, 0]


class PointerDecoder(eqx.Module):
    """Node pointers, eqs. 27-29: p1 = W1 h_i, p2 = W2 h_j, p_e = W_e E_ji,
    p_m = max(p1, p2 + p_e), logit_ij = W3 p_m; softmax over j gives i's pointer.

    With ``simplify`` (table 3), logit_ij = -c·max(p1_i - p2_j, p2_j - p1_i) on the first
    feature of p1 and p2: a position-matching read-out (eq. 31).

    **Arguments:**

    - `probe`: the pointer ``Probe`` it decodes.
    - `in_size`: the width of h_t (3s in a ``Model``).
    - `feature_size`: f of the edge features E.
    - `hidden_size`: the width of p1, p2, p_e.
    - `simplify`: the simplified decoder of table 3.
    - `key`: a ``jax.random.key``.
    """

    W1: eqx.nn.Linear
    W2: eqx.nn.Linear
    W_e: eqx.nn.Linear
    W3: eqx.nn.Linear
    probe: Probe = eqx.field(static=True)
    simplify: bool = eqx.field(static=True)

    def __init__(self, probe: Probe, in_size: int, feature_size: int, hidden_size: int, *, simplify: bool = False, key: PRNGKeyArray):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        self.W1 = linear(in_size, hidden_size, key=k1)
        self.W2 = linear(in_size, hidden_size, key=k2)
        self.W_e = linear(feature_size, hidden_size, key=k3)
        self.W3 = linear(hidden_size, 1, key=k4)
        self.probe = probe
        self.simplify = simplify

    def __call__(self, h: Float[Array, "n t"], E: Edges, g: Float[Array, " f"]) -> Float[Array, "n n"]:
        """**Arguments:**

        - `h`: h_t = [V | H_prev | H_new], ``[n, 3s]``.
        - `E`: the edge features ``[i, j, f]`` (dense or an ``EdgeSum``).
        - `g`: the graph features (not read).

        **Returns:**

        Pointer logits ``[i, j]``: a softmax over j gives node i's pointer.
        """
        p1 = affine(self.W1, h)  # [i s]
        p2 = affine(self.W2, h)  # [j s]
        if self.simplify:
            diff = p1[:, None, 0] - p2[None, :, 0]
            return -SIMPLE_POINTER_SCALE * jnp.maximum(diff, -diff)
        p_e = rearrange(project(E, self.W_e), "j i s -> i j s")  # W_e E_ji
        p_m = jnp.maximum(p1[:, None, :], p2[None, :, :] + p_e)
        return einsum(self.W3.weight, p_m, "o s, i j s -> i j o")[..., 0] + self.W3.bias[0]


def node_max(h: Float[Array, "n t"]) -> Float[Array, " t"]:
    """max_i h_i per feature, the value ``jnp.max(h, axis=0)`` gives, with a gradient that
    goes to the first maximiser (a gather at ``argmax``).

    ``jnp.max``'s gradient divides by the number of entries equal to the max. Compiled
    for XLA:CPU, the backward pass can recompute ``h`` with other rounding than the
    forward max was taken from, find no entry equal to it and divide 0 by 0: NaN in
    every parameter although the loss is finite. It happened on a DFS batch at hidden
    size 12 (``tests/test_train.py``), in dm-clrs' own graph decoder too. ``argmax`` is
    one reduction that returns the index with the value, so the gather never misses.

    **Arguments:**

    - `h`: ``[n, t]``, a feature vector per node.

    **Returns:**

    The per-feature maximum over nodes, ``[t]``.
    """
    index = jnp.argmax(h, axis=0, keepdims=True)
    return jnp.take_along_axis(h, index, axis=0)[0]


class GraphDecoder(eqx.Module):
    """The decoder of a graph scalar or mask: W_n max_i(h_i) + W_g g (``node_max``: a
    NaN-free gradient).

    **Arguments:**

    - `probe`: the graph ``Probe`` it decodes.
    - `in_size`: the width of h_t (3s in a ``Model``).
    - `feature_size`: f of the graph features g.
    - `key`: a ``jax.random.key``.
    """

    W_n: eqx.nn.Linear
    W_g: eqx.nn.Linear
    probe: Probe = eqx.field(static=True)

    def __init__(self, probe: Probe, in_size: int, feature_size: int, *, key: PRNGKeyArray):
        if probe.type not in (Type.SCALAR, Type.MASK):
            raise NotImplementedError(f"graph {probe.type} decoders are not supported ({probe.name})")
        k1, k2 = jax.random.split(key)
        self.W_n = linear(in_size, probe.dim, key=k1)
        self.W_g = linear(feature_size, probe.dim, key=k2)
        self.probe = probe

    def __call__(self, h: Float[Array, "n t"], E: Edges, g: Float[Array, " f"]) -> Float[Array, ""]:
        """**Arguments:**

        - `h`: h_t = [V | H_prev | H_new], ``[n, 3s]``.
        - `E`: the edge features (not read).
        - `g`: the graph features ``[f]``.

        **Returns:**

        The graph's logit, a scalar.
        """
        return (affine(self.W_n, node_max(h)) + affine(self.W_g, g))[0]


Decoder = NodeDecoder | PointerDecoder | GraphDecoder


def make_decoder(probe: Probe, in_size: int, feature_size: int, hidden_size: int, *, simplify: bool, key: PRNGKeyArray) -> Decoder:
    """The decoder a probe's location and type call for."""
    if probe.location == Location.GRAPH:
        return GraphDecoder(probe, in_size, feature_size, key=key)
    if probe.location != Location.NODE:
        raise NotImplementedError(f"{probe.location} decoders are not supported ({probe.name})")
    if probe.type == Type.POINTER:
        return PointerDecoder(probe, in_size, feature_size, hidden_size, simplify=simplify, key=key)
    return NodeDecoder(probe, in_size, key=key)


def postprocess(probe: Probe, logits: Array, *, hard: bool) -> Array:
    """Decoder logits to probe values.

    **Arguments:**

    - `probe`: the ``Probe`` the logits decode.
    - `logits`: its decoder's logits, any leading axes (e.g. ``[b, T-1, ...]``).
    - `hard`: soft (False: what is fed back as hints) or hard (True: what is scored).

    **Returns:**

    Soft: sigmoid masks, softmax pointers and categoricals (rows over j or k), raw
    scalars. Hard: thresholded masks, argmax pointers (as float node indices, one axis
    fewer), one-hot categoricals and mask_ones, scalars with their gradient stopped.
    """
    t = probe.type
    if t == Type.SCALAR:
        return jax.lax.stop_gradient(logits) if hard else logits
    if t == Type.MASK:
        return (logits > 0.0).astype(jnp.float32) if hard else jax.nn.sigmoid(logits)
    if t in (Type.MASK_ONE, Type.CATEGORICAL):
        if hard:
            return jax.nn.one_hot(jnp.argmax(logits, -1), logits.shape[-1], dtype=jnp.float32)
        return jax.nn.softmax(logits, axis=-1)
    if t == Type.POINTER:
        return jnp.argmax(logits, -1).astype(jnp.float32) if hard else jax.nn.softmax(logits, -1)
    raise ValueError(f"unknown probe type {t!r}")
