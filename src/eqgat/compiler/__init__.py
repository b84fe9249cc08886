"""Neural compilation: a ``GraphProgram`` becomes every parameter of an eqgat ``Model``.

The compiler runs in stages, as tracr's does:

1. ``analyse`` (``_analyse.py``): check the program against what one GATv2 step can
   compute exactly and classify each component's update (a ``Plan``); every problem is
   reported in one error.
2. ``layout`` (``_layout.py``): name the directions of the node features V, edge features
   E, hidden state H (tracr's basis directions, ``Direction``) and attention features ζ.
3. ``constants`` (``_constants.py``): the scales, derived from the precision, the largest
   graph (``max_nodes``) and the program's value bound (``Constants``; ``describe`` says why).
4. ``compile_processor`` (``_processor.py``): W_val, W_skip, W_info (values and state
   upkeep), W_out, W_in, W_edge and ω (the minimum selection), into the weight buffer
   every backend shares (``Weights``, ``_weights.py``).
5. ``compile_encoders`` / ``compile_decoders`` (``_probes.py``): the probes in and out;
   ``assemble`` (``_weights.py``) builds the zero model, writes the buffer and runs them.

``compile_program`` (``_compile.py``) runs them in order; ``compile_stages`` runs 1-3 and
returns what ``show`` and ``verify`` read (``Compiled``).

Each program type is a *backend* (``Backend``, ``register_backend``) of this one
pipeline: its own stages 1-5 into the shared ``Layout`` (named directions, stored in a
compiled checkpoint and drawn by ``show``), ``Weights``, ``assemble`` and eq.-31 pointer
decoder, and a constants table with ``describe()``. A ``DepthFirst`` program
(``eqgat.programs.dfs_light``) is the second backend (``_dfs.py``, with
``_dfs_layout.py``: a layout with one block per head, ``_dfs_constants.py``:
``DfsConstants``, ``_dfs_processor.py``): a sequential algorithm, one full-attention
step per hint with three selections (heads). ``CompileOptions`` holds every setting, and
each backend declares which it takes. A new backend is one new module registering
itself for its program type. ``compile_algorithm`` compiles any registered algorithm by
name (``compiled_algorithms``).

How one step computes the round (``eqgat.lang`` has the semantics). Let ``msk_j`` be node
j's flag (stored flag + start input), ``x_j`` its id (``pos``) and ``c_ij`` the selected
expression (e.g. ``d_j + A_ij``):

- *Selection.* Every attention feature ζ_k is non-negative, so σ (leaky ReLU) passes it
  unchanged, and the logit is ``a_ij = Σ_k ω_k ζ_k``. Each quantity has a feature of its
  own, so that no large constant shares a float sum with a fine tie-break:

  - ``value``: ``c_ij`` (ω = -L): the least expression wins;
  - ``id``: ``x_j`` (ω = -L·ε): on an exact tie, the lowest id wins;
  - ``penalty``: ``K·(1 - msk_j) + Q·(1 - adj_ij)`` (ω = -L): unmasked senders, and
    (with ``incumbent``) non-edges, lose. It is exactly 0 for a masked neighbour, so it
    adds nothing to the logits that compete;
  - with ``incumbent``, the *parent bonus*: a receiver keeps its parent on an exact tie
    with its current value, as dm-clrs' strict ``<`` does, unless the parent itself
    improved in the last round (then the lowest index wins among the new minimisers).
    The parent is recognised from the fed-back parent-pointer hint (an exact one-hot edge
    feature ``parent_ij``), the improvement from the sender's slot ``Δ_j`` (how much its
    value fell in the last round). Three features give ``+bonus`` exactly to an
    unchanged parent and nothing to anyone else:
    ``ζ = parent_ij - G·Δ_j`` (ω = P), ``G·Δ_j`` (ω = slope·P), ``parent_ij``
    (ω = -slope·P), with ``(1 - slope)·P = L·bonus``.

  Re-selecting the parent *is* keeping the incumbent (same value, same pointer).
- *Update.* ``H' = relu(Σ_j α_ij ν_j + W_info-terms + W_skip C_i)``. Each (component,
  case) has its own slot, gated by a large M: ``relu(value + M·(gate - 1))`` is the value
  when the gate is 1 and 0 when it is 0. The gates are linear: ``Σ_j α_ij msk_j`` (was
  a masked candidate selected?) from the values, the receiver's own flag and start from
  the skip. A component reads as the sum of its slots.
- *Decoders.* Pointers use eq. 31: logit_ij = -c·|π_i - x_j| built from the pointer
  decoder's max as -c·(2·max(π_i, x_j) - π_i - x_j).

**Resolution.** A logit is one float number, so the key (value, then id) has the
precision's bits. Candidates whose values tie *exactly* resolve as dm-clrs resolves them
on every graph of at most ``max_nodes`` nodes whose ids are at least ``1/max_nodes``
apart (dm-clrs' ids are i/n). Values closer than ``Constants.resolution`` (float32 at
n = 128: 9.3e-4; float64: 1.8e-10) may resolve by id or incumbency instead of by value:
``verify`` counts such cases as near-ties, from dm-clrs' float64 values.
"""

from ._algorithms import compile_algorithm as compile_algorithm
from ._algorithms import compiled_algorithms as compiled_algorithms
from ._analyse import Plan as Plan
from ._analyse import analyse as analyse
from ._compile import Compiled as Compiled
from ._compile import compile_program as compile_program
from ._compile import compile_stages as compile_stages
from ._compile import BACKENDS as BACKENDS
from ._compile import Artifact as Artifact
from ._compile import Backend as Backend
from ._compile import backend_for as backend_for
from ._compile import compile_artifact as compile_artifact
from ._compile import register_backend as register_backend
from ._options import CompileOptions as CompileOptions
from ._options import add_option_flags as add_option_flags
from ._options import graph_size as graph_size
from ._options import options_from_flags as options_from_flags
from ._dfs_constants import DfsConstants as DfsConstants
from ._dfs import DfsPlan as DfsPlan
from ._dfs import analyse_depth_first as analyse_depth_first
from ._dfs import compile_depth_first as compile_depth_first
from ._dfs import compile_dfs_light as compile_dfs_light
from ._dfs_layout import dfs_layout as dfs_layout
from ._dfs_layout import dfs_state as dfs_state
from ._dfs_trace_layout import TraceConstants as TraceConstants
from ._dfs_trace_layout import dfs_trace_state as dfs_trace_state
from ._dfs_trace_layout import trace_layout as trace_layout
from ._constants import DEFAULT_MAX_NODES as DEFAULT_MAX_NODES
from ._constants import MARGIN as MARGIN
from ._constants import SAFETY as SAFETY
from ._constants import VALUE_BOUND as VALUE_BOUND
from ._constants import Constants as Constants
from ._constants import constants as constants
from ._layout import Direction as Direction
from ._layout import Layout as Layout
from ._layout import MECHANISMS as MECHANISMS
from ._layout import layout as layout
from ._algorithms import minimal_hidden_size as minimal_hidden_size
from ._probes import compile_decoders as compile_decoders
from ._probes import compile_encoders as compile_encoders
from ._processor import compile_processor as compile_processor
from ._weights import Weights as Weights
from ._weights import assemble as assemble
