"""The GATv2 processor layer in the paper's notation (eqs. 2-14).

Axis names used in every einsum, as in the paper:

- ``i`` / ``j``: receiving / sending node (both of size n; softmax runs over ``j``)
- ``f``: encoded feature size, ``s``: hidden size, ``c = f + s``: the concatenation C
- ``d``: attention heads, ``m = s / d``: features per head

θ = (W_val, W_in, W_out, W_edge, W_meta, W_skip, ω) (eq. 2), plus W_info (eqs. 11-13) when
``use_edge_info`` and the pre-attention bias B (eq. 14) when ``use_pre_att_bias``. Every
W_* is an ``eqx.nn.Linear`` (weight ``[out, in]`` plus bias, as in dm-clrs' Haiku layers).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from einops import einsum, rearrange
from jaxtyping import Array, Float, PRNGKeyArray

from ._edges import EdgeSum, Edges, project
from ._linear import linear
from ._shapes import check_shape, fmt, shape_of

#: c in β = c·(A - 1) (eq. 8): large enough that exp(a - c) underflows to exactly 0 in
#: float32 for any |a| < 1e8, so non-edges get zero attention. dm-clrs uses the same 1e9.
ADJACENCY_BIAS = 1e9

#: Slope of σ, GATv2's leaky ReLU, for negative inputs (eq. 7; dm-clrs uses jax's default).
LEAKY_SLOPE = 0.01


class GATv2(eqx.Module):
    """One GATv2 message-passing step (eqs. 2-10), with the edge-information (eqs. 11-13)
    and pre-attention-bias (eq. 14) switches.

    ``__call__`` is per graph (no batch axis); batch with ``jax.vmap``. Its parameters are
    θ = (W_val, W_in, W_out, W_edge, W_meta, W_skip, ω) (eq. 2), each W an
    ``eqx.nn.Linear`` stored ``[out, in]``, plus ``W_info`` and ``B`` when switched on.
    """

    W_val: eqx.nn.Linear
    W_in: eqx.nn.Linear
    W_out: eqx.nn.Linear
    W_edge: eqx.nn.Linear
    W_meta: eqx.nn.Linear
    W_skip: eqx.nn.Linear
    omega: Float[Array, "d m"]
    omega_bias: Float[Array, " d"]
    W_info: eqx.nn.Linear | None
    B: Float[Array, "n n"] | None
    layer_norm: eqx.nn.LayerNorm | None
    feature_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)
    nb_heads: int = eqx.field(static=True)
    full_attention: bool = eqx.field(static=True)

    def __init__(
        self,
        feature_size: int,
        hidden_size: int,
        nb_heads: int = 1,
        *,
        use_ln: bool = True,
        use_edge_info: bool = False,
        use_pre_att_bias: bool = False,
        nb_nodes: int | None = None,
        full_attention: bool = False,
        key: PRNGKeyArray,
    ):
        """**Arguments:**

        - `feature_size`: f, the size of the encoded node, edge and graph features.
        - `hidden_size`: s, the size of the hidden state H.
        - `nb_heads`: d, the attention heads (must divide s; m = s / d features each).
        - `use_ln`: layer norm after the update.
        - `use_edge_info`: W_info (eqs. 11-13): Σ_j α_ij (W_info E)_ij joins the selected
          values.
        - `use_pre_att_bias`: the learned pre-attention bias B (eq. 14), ``[n, n]``; needs
          `nb_nodes`, and the layer then only accepts graphs of that size.
        - `nb_nodes`: n of B.
        - `full_attention`: every node attends over all nodes, A then masks nothing
          (dm-clrs' ``gatv2_full``).
        - `key`: a ``jax.random.key`` for the initial weights.
        """
        if hidden_size % nb_heads != 0:
            raise ValueError(
                f"nb_heads={nb_heads} must divide hidden_size={hidden_size}"
            )
        if use_pre_att_bias and nb_nodes is None:
            raise ValueError("use_pre_att_bias needs nb_nodes: B is an n×n matrix")
        f, s, d = feature_size, hidden_size, nb_heads
        keys = jax.random.split(key, 8)
        self.W_val = linear(f + s, s, key=keys[0])
        self.W_skip = linear(f + s, s, key=keys[1])
        self.W_out = linear(f + s, s, key=keys[2])
        self.W_in = linear(f + s, s, key=keys[3])
        self.W_edge = linear(f, s, key=keys[4])
        self.W_meta = linear(f, s, key=keys[5])
        m = s // d
        self.omega = (1.0 / m**0.5) * jax.random.truncated_normal(keys[6], -2.0, 2.0, (d, m))
        self.omega_bias = jnp.zeros((d,))
        self.W_info = linear(f, s, key=keys[7]) if use_edge_info else None
        self.B = jnp.zeros((nb_nodes, nb_nodes)) if use_pre_att_bias else None
        self.layer_norm = eqx.nn.LayerNorm(s, eps=1e-5) if use_ln else None
        self.feature_size, self.hidden_size, self.nb_heads = f, s, d
        self.full_attention = full_attention

    @property
    def use_edge_info(self) -> bool:
        return self.W_info is not None

    @property
    def use_pre_att_bias(self) -> bool:
        return self.B is not None

    @property
    def use_ln(self) -> bool:
        return self.layer_norm is not None

    def check_inputs(self, V, E, g, A, H) -> int:
        """Check one graph's inputs against this layer's sizes, naming the argument and
        both sizes when one does not fit (plain shape comparisons: under ``jax.jit`` and
        ``jax.vmap`` they run once, while tracing). ``__call__`` and ``logits`` call it.

        **Arguments:**

        As ``__call__``'s.

        **Returns:**

        n, the graph's number of nodes (from V).

        **Raises:**

        ``ValueError`` for the first argument whose shape does not fit.
        """
        f, s = self.feature_size, self.hidden_size
        v = shape_of(V)
        if len(v) != 2:
            raise ValueError(f"V must be [n, feature_size] = [n, {f}] (one graph; batch with jax.vmap), "
                             f"got shape {fmt(v)}")
        n = v[0]
        if v[1] != f:
            raise ValueError(f"V has {v[1]} features; this GATv2 has feature_size {f} (V must be [n, feature_size])")
        sizes = f" (n = {n} from V; this GATv2's feature_size {f})"
        check_shape(E.base if isinstance(E, EdgeSum) else E, ("n", "n", "feature_size"), (n, n, f), arg="E",
                    note=sizes)
        check_shape(g, ("feature_size",), (f,), arg="g", note=f" (this GATv2's feature_size {f})")
        check_shape(A, ("n", "n"), (n, n), arg="A", note=f" (n = {n} from V)")
        h = shape_of(H)
        if len(h) == 2 and h[0] == n and h[1] != s:
            raise ValueError(f"H has {h[1]} features; this GATv2 has hidden_size {s} (H must be [n, hidden_size])")
        check_shape(H, ("n", "hidden_size"), (n, s), arg="H", note=f" (n = {n} from V; this GATv2's hidden_size {s})")
        if self.B is not None and self.B.shape[0] != n:
            raise ValueError(
                f"this model has a pre-attention bias B of size {self.B.shape[0]}x"
                f"{self.B.shape[1]} (use_pre_att_bias fixes n), but the graph has n={n} nodes"
            )
        return n

    def logits(
        self,
        V: Float[Array, "n f"],
        E: Edges,
        g: Float[Array, " f"],
        A: Float[Array, "n n"],
        H: Float[Array, "n s"],
    ) -> Float[Array, "d n n"]:
        """The attention logits a + β of eqs. 5-8: α is their softmax over senders.

        **Arguments:**

        As ``__call__``.

        **Returns:**

        The logits ``[d, i, j]`` (head, receiver, sender).
        """
        self.check_inputs(V, E, g, A, H)
        d = self.nb_heads
        C = jnp.concatenate([V, H], axis=-1)
        # eqs. 5-6: ζ_ij = W_in C_i + W_out C_j + W_edge E_ij + W_meta g, by broadcasting
        zeta_in = einsum(self.W_in.weight, C, "s c, i c -> i s") + self.W_in.bias
        zeta_out = einsum(self.W_out.weight, C, "s c, j c -> j s") + self.W_out.bias
        zeta_edge = project(E, self.W_edge)  # W_edge E_ij (E dense or an EdgeSum: eqgat.nn._edges)
        zeta_meta = einsum(self.W_meta.weight, g, "s f, f -> s") + self.W_meta.bias
        zeta = zeta_in[:, None, :] + zeta_out[None, :, :] + zeta_edge + zeta_meta
        if self.B is not None:
            # eq. 14: ζ = ζ + B, the learned n×n pre-attention bias, for every feature
            zeta = zeta + self.B[:, :, None]
        # eq. 7: a_ijd = ω_dm σ(ζ)_ijdm, σ = leaky ReLU (slope LEAKY_SLOPE)
        zeta = rearrange(zeta, "i j (d m) -> i j d m", d=d)
        # (σ(ζ) first: its [n, n, s] layout is the dot's, so it is not copied into another)
        a = einsum(jax.nn.leaky_relu(zeta, LEAKY_SLOPE), self.omega, "i j d m, d m -> d i j")
        a = a + self.omega_bias[:, None, None]
        # eq. 8: β = c (A - 1); full attention: β = 0 (dm-clrs' gatv2_full sets A to ones)
        beta = jnp.zeros_like(A) if self.full_attention else ADJACENCY_BIAS * (A - 1.0)
        return a + beta[None]

    def __call__(
        self,
        V: Float[Array, "n f"],
        E: Edges,
        g: Float[Array, " f"],
        A: Float[Array, "n n"],
        H: Float[Array, "n s"],
    ) -> tuple[Float[Array, "n s"], Float[Array, "d n n"]]:
        """One message-passing step on one graph.

        **Arguments:**

        - `V`: node features ``[n, f]``.
        - `E`: edge features ``[i, j, f]`` (receiver i, sender j), dense or kept as a sum
          (``eqgat.nn._edges.EdgeSum``, what ``Model`` passes).
        - `g`: graph features ``[f]``.
        - `A`: adjacency ``[i, j]``, 1 where j may send to i (eq. 8: β = c·(A − 1)).
        - `H`: hidden state ``[n, s]``.

        **Returns:**

        ``(H, alpha)``: the new hidden state ``[n, s]`` and the attention α ``[d, i, j]``
        (head, receiver, sender; a softmax over j).
        """
        self.check_inputs(V, E, g, A, H)
        d = self.nb_heads
        # eq. 4: C = [V | H], values ν = W_val C
        C = jnp.concatenate([V, H], axis=-1)
        nu = einsum(self.W_val.weight, C, "s c, j c -> j s") + self.W_val.bias
        # eqs. 5-9: α = softmax_j(a + β)
        alpha = jax.nn.softmax(self.logits(V, E, g, A, H), axis=-1)
        # eq. 10: selected values per head, heads concatenated back to s
        nu = rearrange(nu, "j (d m) -> d j m", d=d)
        selected = einsum(alpha, nu, "d i j, d j m -> i d m")
        if self.W_info is not None:
            # eqs. 11-13: ν_edge_i = Σ_j α_ij ⊙ (W_info E)_ij, added to the new H
            E_mid = project(E, self.W_info)
            E_mid = rearrange(E_mid, "i j (d m) -> i j d m", d=d)
            selected = selected + einsum(alpha, E_mid, "d i j, i j d m -> i d m")
        out = rearrange(selected, "i d m -> i (d m)")
        out = out + einsum(self.W_skip.weight, C, "s c, i c -> i s") + self.W_skip.bias
        out = jax.nn.relu(out)
        if self.layer_norm is not None:
            out = jax.vmap(self.layer_norm)(out)
        return out, alpha
