"""FLOPs a JAX function executes, counted from its jaxpr, and the FLOP rate of a jitted
matmul on this machine: the benchmarks print both, so the distance to the floor can be read.

XLA's own ``cost_analysis`` counts a loop body once whatever its trip count; here a scan
body counts ``length`` times (or ``executed(length)`` times: eqgat skips padded steps
inside the scan with a ``cond``, whose taken branch is the costlier one). Only matrix
products (``dot_general``, 2 FLOPs per multiply-add) are counted: the rest is memory
traffic, so the figure is the matmul work the step cannot avoid.
"""

import math
import time

import jax
import numpy as np


def _dot_flops(eqn) -> int:
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    lhs, rhs = (v.aval.shape for v in eqn.invars)
    rhs_free = [d for i, d in enumerate(rhs) if i not in rc and i not in rb]
    return 2 * math.prod(lhs) * math.prod(rhs_free)


def _sub_jaxprs(eqn):
    for k, v in eqn.params.items():
        if k == "branches":
            continue
        if hasattr(v, "eqns"):
            yield v
        elif hasattr(v, "jaxpr") and hasattr(v.jaxpr, "eqns"):
            yield v.jaxpr


def jaxpr_flops(jaxpr, executed=lambda length: length) -> int:
    """Matmul FLOPs of ``jaxpr``: scans count ``executed(length)`` times, conds their
    costliest branch, while loops once."""
    total = 0
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "dot_general":
            total += _dot_flops(eqn)
        elif name == "cond":
            total += max(jaxpr_flops(b.jaxpr, executed) for b in eqn.params["branches"])
        elif name == "scan":
            total += executed(eqn.params["length"]) * jaxpr_flops(eqn.params["jaxpr"].jaxpr, executed)
        else:
            total += sum(jaxpr_flops(j, executed) for j in _sub_jaxprs(eqn))
    return total


def flops(fn, *args, executed=lambda length: length) -> int:
    """Matmul FLOPs one call ``fn(*args)`` executes (``jaxpr_flops``)."""
    import equinox as eqx

    return jaxpr_flops(eqx.filter_make_jaxpr(fn)(*args)[0].jaxpr, executed)


def matmul_gflops(size: int = 1024, repeats: int = 10) -> float:
    """GFLOP/s of a jitted float32 ``size`` x ``size`` matmul (median of ``repeats``)."""
    a = jax.random.normal(jax.random.key(0), (size, size))
    f = jax.jit(lambda x: x @ x)
    jax.block_until_ready(f(a))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(f(a))
        times.append(time.perf_counter() - t)
    return 2 * size**3 / float(np.median(times)) / 1e9


def device_name() -> str:
    d = jax.devices()[0]
    return f"{d.platform}:{getattr(d, 'device_kind', '?')} x{jax.device_count()}"
