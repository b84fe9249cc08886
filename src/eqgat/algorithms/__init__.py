"""The algorithm registry (``eqgat.Algorithm``, ``eqgat.register_algorithm``), and one
module per built-in algorithm: its probes (``SPEC``), its NumPy reference trace
(``reference``; for dm-clrs' three also ``traces``, the same for a batch of graphs at once,
which the samplers use), the graphs it runs on, and its program (``PROGRAM``) where it has one.

=============== ====================================================== ========
algorithm       graphs                                                 program
=============== ====================================================== ========
``bfs``         undirected, a source (dm-clrs)                         yes
``bellman_ford`` weighted undirected, a source (dm-clrs)               yes
``dfs``         directed (dm-clrs; nine hints)                          ``DepthFirst``
``bfs_seq``     undirected, a source (the paper's fork)                no
``dfs_light``   directed (the paper's fork)                            ``DepthFirst``
``labelprop``   a seed mask (eqgat's own; no sampler)                  yes
=============== ====================================================== ========

No code outside this package and the compiler's backends looks at an algorithm's name:
everything reads its record. ``eqgat.algorithms()`` lists the registered records.
"""

import sys as _sys
import types as _types

from ._registry import MIN_BUCKET as MIN_BUCKET
from ._registry import Algorithm as Algorithm
from ._registry import BatchTrace as BatchTrace
from ._registry import Trace as Trace
from ._registry import get_algorithm as get_algorithm
from ._registry import get_spec as get_spec
from ._registry import graph_input_probes as graph_input_probes
from ._registry import graph_inputs as graph_inputs
from ._registry import max_trace_length as max_trace_length
from ._registry import names as names
from ._registry import register_algorithm as register_algorithm
from ._registry import register_spec as register_spec
from ._registry import registered as registered
from ._registry import time_bucket as time_bucket
from . import bfs as bfs  # noqa: E402  (each built-in registers itself on import)
from . import bellman_ford as bellman_ford
from . import dfs as dfs
from . import bfs_seq as bfs_seq
from . import dfs_light as dfs_light
from . import labelprop as labelprop


class _CallableModule(_types.ModuleType):
    """``eqgat.algorithms`` is this package and, called, the list of registered records:
    ``eqgat.algorithms()`` (one name for both, as the public API asks)."""

    def __call__(self, *, sampled: bool = False, compiled: bool = False) -> tuple[Algorithm, ...]:
        """Every registered ``Algorithm`` (``sampled``: with a reference trace;
        ``compiled``: with a program), in registration order."""
        return registered(sampled=sampled, compiled=compiled)


_sys.modules[__name__].__class__ = _CallableModule
