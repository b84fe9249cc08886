"""Linear layers initialised as dm-clrs (Haiku) initialises them.

eqgat keeps every weight in an ``eqx.nn.Linear`` (weight ``[out, in]``, bias ``[out]``), so
the *output* axis (axis 0) is the filter axis everywhere, which is what filter-normalised
landscape directions rely on.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray


def linear(
    in_features: int, out_features: int, *, key: PRNGKeyArray, stddev: float | None = None
) -> eqx.nn.Linear:
    """``eqx.nn.Linear(in_features -> out_features)`` with Haiku's default init: weights
    from a normal truncated at two standard deviations with ``stddev = 1/sqrt(in)`` (or the
    ``stddev`` given), biases zero."""
    if stddev is None:
        stddev = 1.0 / float(in_features) ** 0.5
    layer = eqx.nn.Linear(in_features, out_features, key=key)
    weight = stddev * jax.random.truncated_normal(key, -2.0, 2.0, (out_features, in_features))
    return eqx.tree_at(
        lambda lin: (lin.weight, lin.bias), layer, (weight, jnp.zeros((out_features,)))
    )


def affine(layer: eqx.nn.Linear, x: Float[Array, "*batch i"]) -> Float[Array, "*batch o"]:
    """``layer`` applied to the last axis of ``x`` (any leading axes)."""
    return x @ layer.weight.T + layer.bias
