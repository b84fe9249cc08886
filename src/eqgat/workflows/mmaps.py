"""Keeping a long process under Linux's limit on memory mappings.

Every compiled XLA:CPU program keeps memory mappings of its own, and a process may hold at
most ``vm.max_map_count`` (65,530 by default); past it the next compile segfaults. A
process that compiles many programs (``reproduce all``, a test worker) calls
``release_if_crowded`` between pieces of work: above ``limit`` maps it drops JAX's
in-memory compiled programs (they are rebuilt, or loaded from a persistent compilation
cache, when next needed).
"""

import jax


def memory_maps() -> int | None:
    """How many memory mappings this process holds (None where /proc is not available)."""
    try:
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return None


def release_if_crowded(limit: int = 20_000) -> bool:
    """``jax.clear_caches()`` if this process holds more than ``limit`` maps; whether it did."""
    n = memory_maps()
    if n is not None and n > limit:
        jax.clear_caches()
        return True
    return False
