"""Edge features kept as a sum, so that their linear maps cost no n×n×f by f×s matmul per step.

Inside a message-passing step the edge features are E_t = E_in + Σ_k enc_k(x_k,t): the
input encodings (the same at every step) plus each fed-back hint's encoding, an affine
map of a few numbers per edge (a soft pointer: one; a categorical: its classes). Every
consumer of E is linear too: the processor's W_edge (eq. 6) and W_info (eq. 11), each
pointer decoder's W_e (eq. 28). So

    W·E_t + b = (W·E_in + b) + Σ_k x_k,t (W·W_k)ᵀ + W·b_k,

where the first term is computed once per graph, before the steps (``EdgeSum.cached``),
and the rest costs n²·c·s per term. Autodiff sums the cached term's gradient over the
steps, so W's gradient is one matmul per graph as well. The value equals ``affine(W, E)``
up to float rounding.
"""

import equinox as eqx
from einops import einsum
from jaxtyping import Array, Float

from ._linear import affine


class EdgeSum(eqx.Module):
    """E = ``base`` + Σ affine(layer, x) over ``terms``; ``cached`` holds (layer, affine(layer,
    base)) for the layers that will read E (found by identity)."""

    base: Float[Array, "n n f"]
    terms: tuple = ()  # ((x [n, n, c], eqx.nn.Linear c -> f), ...)
    cached: tuple = ()  # ((eqx.nn.Linear f -> s, [n, n, s]), ...)

    @classmethod
    def over(cls, base: Float[Array, "n n f"], readers: list[eqx.nn.Linear]) -> "EdgeSum":
        """``base`` with each reader's projection of it computed now (once per graph)."""
        return cls(base, (), tuple((layer, affine(layer, base)) for layer in readers))

    def add(self, x: Float[Array, "n n c"], layer: eqx.nn.Linear) -> "EdgeSum":
        """E + affine(layer, x), kept as a term."""
        return EdgeSum(self.base, self.terms + ((x, layer),), self.cached)

    def project(self, layer: eqx.nn.Linear) -> Float[Array, "n n s"]:
        """affine(layer, E), from the cached projection of the base when there is one."""
        out = next((p for cached, p in self.cached if cached is layer), None)
        if out is None:
            out = affine(layer, self.base)
        for x, enc in self.terms:
            out = out + einsum(x, layer.weight @ enc.weight, "i j c, s c -> i j s") + layer.weight @ enc.bias
        return out


#: Edge features as consumers take them: dense, or kept as a sum.
Edges = Float[Array, "n n f"] | EdgeSum


def project(E: Edges, layer: eqx.nn.Linear) -> Float[Array, "n n s"]:
    """affine(layer, E) for edge features given densely or as an ``EdgeSum``."""
    return E.project(layer) if isinstance(E, EdgeSum) else affine(layer, E)
