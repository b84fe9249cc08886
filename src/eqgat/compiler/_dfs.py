"""The depth-first backend: a ``DepthFirst`` program in one full-attention GATv2 step per
hint (``ModelConfig(full_attention=True)``), by one of two constructions chosen by the
program's ``trace``:

- ``"light"`` (the fork's ``dfs_light``, ``eqgat.programs.dfs_light``; four heads, the
  colour and parent hints fed back, H carrying the cursor and the scan): described below;
- ``"clrs"`` (dm-clrs' ``dfs`` with all nine hints; eight heads, five working, the hints
  fed back as the state): ``_dfs_trace.py`` and ``_dfs_trace_layout.py``.

Stage 1 (``analyse_depth_first``) is shared; the rest of this docstring is the light
construction.

Stages, as for graph programs: ``analyse_depth_first`` (stage 1: the program against
the probe spec, every problem in one error, a ``DfsPlan``), the fixed layout of named
slots and attention features (``_dfs_layout.py``: ``SLOTS``, ``STATE``, ``FEATURES``,
stage 2), ``DfsConstants`` (stage 3), ``compile_processor_dfs`` (stage 4,
``_dfs_processor.py``) and the probes (stage 5, in ``compile_depth_first``).

``dfs_light`` cannot be computed by the CLRS GATv2, whose attention follows the edges: a
tree may start in another weakly connected component, and an isolated node cannot learn
that every other node is finished (``eqgat.workflows.locality``, docs/dfs/analysis.md). With
attention over all nodes, the smallest change that removes that obstruction, it compiles.

**The state.** The colour and the parent pointer are hints, fed back each step (one-hot
to float precision, since every decoder wins by ``MARGIN``): V holds the colour, E the
pointer ``pi_ij`` (i's parent is j). A white node's pointer points at itself, so
``pi_ii`` tells a white receiver "this sender is me" with no id comparison. H carries
only what the hints do not say (``STATE``): ``cur``, the node the search stands on (a
black cursor: its tree is finished), the *scan*, computed one step ahead (``ws``, the id
of the node's lowest-id white out-neighbour other than itself, and ``found``), ``pv``,
the parent's id at the next hint, and ``begun`` (0 only before step 0).

**One step**, for every node at once, reads hint t and H and writes hint t+1:

- the cursor is white (a new root): it turns grey;
- the cursor is grey and ``found``: node ``ws(cursor)`` turns grey, takes the cursor as
  its parent and becomes the cursor (a *push*);
- the cursor is grey, nothing ``found``: it turns black and its parent becomes the
  cursor (a *pop*; a root's parent is itself, which stays the cursor, now black);
- the cursor is black, or there is none (before step 0): the lowest-id white node
  becomes the cursor (a hint with no change, as in dfs_light); before step 0 it also
  turns grey.

``ws`` is computed a step early, from the colours of hint t, and used at t+1; it is still
right then, because a step turns at most one node grey and that node is the next cursor
itself, which its own scan excludes.

**Heads** (``hidden_size`` = 4m):

0. *scan*: receiver i selects its lowest-id white out-neighbour j (``adj_ij``), not
   itself (``pi_ii``); a non-candidate wins when there is none (value <= 0);
1. *moves*: receiver i selects the cursor if the cursor pushes to i (its ``ws`` is i's
   id) or pops to i (its ``pv`` is); otherwise a non-cursor node;
2. *roots*: receiver i selects the cursor unless it is black, else the lowest white
   node; a white receiver whose selection is itself (``pi_ii``) takes the cursor;
3. *parent*: receiver i selects its parent along ``pi_ij`` and reads its id.

**Why it is not a needle.** No logit is a difference of large terms: each ω weighs a
feature of at most a few units (an id, a flag, an integer penalty), and id equality is
the V-shape ``-L·|target_j - x_i|`` of two exact relus (``HeadWeights.match``) switched
off by the sender's flags. A relative change ε of any weight moves a logit by about
ε·1e4 against a margin of 80, and the flags the cursor hands on are snapped back to 0 or
1 each step (``SNAPPED``), so errors do not build up over the 3n steps of a trace.

**Resolution.** Node ids (``pos``) must increase with the node index (dm-clrs' i/n and
its sorted random ids do) and be at least ``1/max_nodes`` apart; then every selection
wins by a logit gap of at least ``MARGIN`` and every slot is exactly 0 or its value.
Float64 (``x64``) works as float32 does.
"""

import dataclasses
import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..nn import ModelConfig
from ..nn import Model
from ..probes import Location, Stage, Type
from ..algorithms import get_spec
from ..lang import TRACE_PARTS, TRACES, Colour, DepthFirst, Pointer, Term
from ._analyse import _Problems
from ._compile import Artifact, Backend, register_backend
from ._constants import DEFAULT_MAX_NODES, MARGIN
from ._dfs_constants import DfsConstants
from ._dfs_layout import HEADS, dfs_layout, minimal_hidden_size, state_slots
from . import _dfs_trace as _trace
from . import _dfs_trace_layout as _trace_layout
from ._dfs_processor import compile_processor_dfs
from ._layout import Layout
from ._options import CompileOptions
from ._weights import _write, assemble, write_encoder, write_pointer_decoder


#: The probe each part of a clrs trace is decoded by: (location, type).
_PART_PROBES = {
    "stack": (Location.NODE, Type.POINTER), "discovery": (Location.NODE, Type.SCALAR),
    "finish": (Location.NODE, Type.SCALAR), "clock": (Location.GRAPH, Type.SCALAR),
    **{part: (Location.NODE, Type.MASK_ONE) for part in ("root", "cursor", "scanned", "top")},
}


@dataclass(frozen=True)
class DfsPlan:
    """Stage 1's reading of a ``DepthFirst`` program: the inputs it reads (``idx`` orders
    the nodes, ``adj`` is the edge mask cursor -> candidate) and the probes that decode
    its colour and its parent pointer."""

    program: DepthFirst
    idx: str
    adj: str
    colour_probes: tuple[str, ...]
    parent_probes: tuple[str, ...]
    parts: dict = dataclasses.field(default_factory=dict)  # a clrs trace's part -> its probe
    colour_hint: str | None = None  # the light trace's fed-back hints
    parent_hint: str | None = None


def _terms(mask) -> list[Term]:
    if mask is None:
        return []
    return list(mask) if isinstance(mask, tuple) else [mask]


def analyse_depth_first(program: DepthFirst) -> DfsPlan:
    """Stage 1: check ``program`` against its algorithm's probes and against what the
    construction computes (``next``: the lowest-id node that is white and an edge mask
    input's neighbour; ``root``: the lowest-id white node); every problem in one
    ``ValueError``."""
    spec = {p.name: p for p in get_spec(program.algorithm)}
    fail = _Problems(program)
    kinds = {n: type(c) for n, c in program.hidden.items()}
    colours = [n for n, k in kinds.items() if k is Colour]
    parents = [n for n, k in kinds.items() if k is Pointer]
    if len(colours) != 1 or len(parents) != 1 or len(kinds) != 2:
        fail(f"a DepthFirst program has one Colour and one Pointer (the parent), got {dict(kinds)}")
    if program.idx not in spec or spec[program.idx].stage != Stage.INPUT or spec[program.idx].location != Location.NODE:
        fail(f"node id input {program.idx!r} is not a node input of {program.algorithm}")
    adj = _check_selections(program, spec, fail)
    if program.trace not in TRACES:
        fail(f"trace must be one of {', '.join(TRACES)}, got {program.trace!r}")
    colour_probes, parent_probes, parts = _check_probes(program, spec, kinds, fail)
    _check_trace(program, spec, adj, colour_probes, parent_probes, parts, fail)
    fail.raise_any()
    colour_hint, parent_hint = (next(iter(_hints(spec, p)), None) for p in (colour_probes, parent_probes))
    return DfsPlan(program, program.idx, adj, tuple(colour_probes), tuple(parent_probes), parts, colour_hint,
                   parent_hint)


def _check_selections(program: DepthFirst, spec: dict, fail: _Problems) -> str | None:
    """Stage 1's selections: ``next`` and ``root`` select the lowest white id, ``next``
    among the neighbours along one edge mask input; returns that input's name."""
    white, idx = Term.ref("other", "white"), Term.ref("other", "idx")
    adj = None
    for name, sel in (("next", program.next), ("root", program.root)):
        if sel.expr != idx:
            fail(f"{name}: the construction selects the lowest id (expr=other.idx), got {sel.expr}")
        if sel.keep is not None or sel.incumbent is not None:
            fail(f"{name}: keep and incumbent belong to graph programs")
        terms = _terms(sel.mask)
        if white not in terms:
            fail(f"{name}: DFS selects white nodes only (mask must include other.white), got {sel.mask}")
        rest = [t for t in terms if t != white]
        if name == "root" and rest:
            fail(f"root: the next root is the lowest white node anywhere (mask=other.white), got {sel.mask}")
        if name == "next":
            edges = []
            for t in rest:
                try:
                    scope, ref = t.single()
                except ValueError as err:
                    fail(f"next: {err}")
                    continue
                p = spec.get(ref)
                if scope != "edge" or p is None or p.stage != Stage.INPUT or p.location != Location.EDGE \
                        or p.type != Type.MASK:
                    fail(f"next: {t} is not an edge mask input of {program.algorithm} (e.g. edge.adj)")
                    continue
                edges.append(ref)
            if len(edges) != 1:
                fail(f"next: the cursor's neighbours come from one edge mask input (e.g. edge.adj), got {sel.mask}")
            else:
                adj = edges[0]
    return adj


def _check_probes(program: DepthFirst, spec: dict, kinds: dict, fail: _Problems):
    """Stage 1's probes: each decodes a component (or, for ``trace="clrs"``, a trace part)
    it can; returns (colour probes, parent probes, trace parts by probe)."""
    colour_probes, parent_probes = [], []
    parts = {}
    for probe, comp in program.probes.items():
        p = spec.get(probe)
        if p is None or p.stage == Stage.INPUT:
            fail(f"{probe!r} is not a hint or output of {program.algorithm}")
        elif program.trace == "clrs" and comp in TRACE_PARTS:
            want = _PART_PROBES[comp]
            if (p.location, p.type) != want:
                fail(f"probe {probe!r} ({p.location} {p.type}) cannot decode the trace part {comp!r} (a {want[0]} "
                     f"{want[1]})")
            elif comp in parts:
                fail(f"trace part {comp!r} is decoded by two probes ({parts[comp]!r} and {probe!r})")
            else:
                parts[comp] = probe
        elif comp not in program.hidden:
            fail(f"probe {probe!r} decodes unknown component {comp!r}")
        elif kinds[comp] is Colour:
            if p.type != Type.CATEGORICAL or p.location != Location.NODE or p.dim != 3:
                fail(f"probe {probe!r} ({p.type}) cannot decode the colour {comp!r} (a node categorical of 3 classes: "
                     "white, grey, black)")
            colour_probes.append(probe)
        elif p.type != Type.POINTER or p.location != Location.NODE:
            fail(f"probe {probe!r} ({p.type}) cannot decode the parent pointer {comp!r}")
        else:
            parent_probes.append(probe)
    return colour_probes, parent_probes, parts


def _hints(spec: dict, probes: list[str]) -> list[str]:
    """The hints among ``probes``."""
    return [p for p in probes if spec[p].stage == Stage.HINT]


def _check_trace(program: DepthFirst, spec: dict, adj, colour_probes, parent_probes, parts, fail: _Problems):
    """Stage 1's whole-trace checks: every probe of the spec decoded, and what each trace's
    construction reads back."""
    missing = [p.name for p in spec.values() if p.stage != Stage.INPUT and p.name not in program.probes]
    if missing:
        fail(f"probes {missing} of the spec are not decoded by the program")
    if program.trace == "clrs":
        absent = [part for part in TRACE_PARTS if part not in parts]
        if absent:
            fail(f"a trace='clrs' program decodes every part of the trace; none decodes {absent}")
        if len(colour_probes) != 1 or len(parent_probes) != 2 or "pi" not in parent_probes:
            fail(f"a trace='clrs' program decodes the colour once and the parent twice (its hint and the output "
                 f"'pi'), got colour {colour_probes} and parent {parent_probes}")
        if program.idx != "pos" or adj != "adj":
            fail(f"the clrs trace construction reads the ids 'pos' and the edge mask 'adj', got {program.idx!r} "
                 f"and {adj!r}")
    hint = functools.partial(_hints, spec)
    if program.trace == "light" and (len(hint(colour_probes)) != 1 or len(hint(parent_probes)) != 1):
        fail(f"a trace='light' program reads its colour and its parent back from one hint each (the fed-back "
             f"pointer marks each white node itself), got colour hints {hint(colour_probes)} and parent hints "
             f"{hint(parent_probes)}")


def depth_first_hidden_size(program: DepthFirst) -> tuple[int, int]:
    """(the smallest hidden size, the number of heads) of ``program``'s construction:
    its trace's (``"light"``: 4 heads, ``"clrs"``: 8)."""
    if program.trace == "clrs":
        return _trace_layout.minimal_hidden_size(), len(_trace_layout.HEADS)
    return minimal_hidden_size(), len(HEADS)


def _compile(program: DepthFirst, hidden_size: int | None, max_nodes: int | None,
             margin: float, x64: bool = False) -> tuple[Model, Layout, DfsConstants | _trace_layout.TraceConstants]:
    """Stages 1-5: the model, its layout and its constants (float64 weights with ``x64``)."""
    plan = analyse_depth_first(program)
    if x64 and not jax.config.jax_enable_x64:
        raise ValueError("compiling with x64=True needs jax_enable_x64 (jax.config.update('jax_enable_x64', True) "
                         "or the jax.enable_x64() context)")
    smallest, heads = depth_first_hidden_size(program)
    s = smallest if hidden_size is None else hidden_size
    if not isinstance(s, int) or s < smallest or s % heads:
        raise ValueError(f"a compiled DepthFirst program (trace={program.trace!r}) needs a hidden size that is a "
                         f"multiple of {heads} (one block per head) and at least {smallest}, got {hidden_size!r}")
    max_nodes = DEFAULT_MAX_NODES if max_nodes is None else max_nodes
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    config = ModelConfig(program.algorithm, s, heads, use_ln=False, use_edge_info=True, full_attention=True)
    dtype = jnp.float64 if x64 else jnp.float32
    if program.trace == "clrs":
        const = _trace_layout.TraceConstants(max_nodes, margin)
        lay = _trace_layout.trace_layout(s)
        model = assemble(config, _trace.compile_trace_processor(lay, const),
                         lambda m: _trace.compile_trace_probes(m, lay, const, dtype), dtype)
        return model, lay, const
    const = DfsConstants(max_nodes, margin)
    lay = dfs_layout(s, plan.adj, plan.parent_hint)
    model = assemble(config, compile_processor_dfs(lay, const),
                     lambda m: _compile_probes(plan, m, lay, const, dtype), dtype)
    return model, lay, const


def compile_depth_first(program: DepthFirst, hidden_size: int | None = None, *, max_nodes: int | None = None,
                        margin: float = MARGIN) -> Model:
    """Compile a ``DepthFirst`` ``program`` (module docstring) into an eqgat ``Model`` with
    ``full_attention``, ``use_edge_info`` and no layer norm (4 heads for a light trace, 8
    for a clrs one); exact on graphs of at most ``max_nodes`` nodes (default 128) whose
    ids increase with the index and are at least 1/max_nodes apart."""
    return _compile(program, hidden_size, max_nodes, margin)[0]


def compile_dfs_light(hidden_size: int | None = None, *, max_nodes: int | None = None,
                      margin: float = MARGIN) -> Model:
    """``compile_depth_first(eqgat.programs.dfs_light, ...)``: the fork's DFS."""
    from ..algorithms.dfs_light import PROGRAM

    return compile_depth_first(PROGRAM, hidden_size, max_nodes=max_nodes, margin=margin)


def _compile_probes(plan: DfsPlan, model: Model, lay: Layout, const: DfsConstants, dtype) -> Model:
    """Stage 5: the id, the edge mask and the fed-back hints in (the colour as three V
    channels, the parent pointer as an edge feature); the colour and the parent pointer
    out."""
    s = model.hidden_size
    adj, parent = lay.E
    model = write_encoder(model, plan.idx, lay.v("idx"), dtype)
    model = write_encoder(model, plan.adj, lay.e(adj), dtype)
    model = write_encoder(model, plan.parent_hint, lay.e(parent), dtype)
    colour = np.zeros((s, 3))
    for k, name in enumerate(("white", "grey", "black")):
        colour[lay.v(name), k] = 1.0
    model = _write(model, lambda m: m.encoders[plan.colour_hint].W.weight, colour, dtype)

    # decoders read h_t = [V | H_prev | H_new]: the old colour plus the step's events
    new = lambda slot: 2 * s + lay.h(slot)  # noqa: E731
    events = {"white": {"start": -1.0, "pushed": -1.0, "root0": -1.0},
              "grey": {"start": 1.0, "pushed": 1.0, "root0": 1.0, "finish": -1.0},
              "black": {"finish": 1.0}}
    W = np.zeros((3, 3 * s))
    for k, name in enumerate(("white", "grey", "black")):
        W[k, lay.v(name)] = const.G
        for part, coeff in events[name].items():
            for slot, c in state_slots(part):
                W[k, new(slot)] += const.G * coeff * c
    for probe in plan.colour_probes:
        model = _write(model, lambda m, p=probe: m.decoders[p].W.weight, W, dtype)
        model = _write(model, lambda m, p=probe: m.decoders[p].W.bias, np.zeros(3), dtype)
    pointer = [(new(slot), coeff) for slot, coeff in state_slots("pv")]
    for probe in plan.parent_probes:
        model = write_pointer_decoder(model, probe, pointer, lay.v("idx"), const.C_pointer, const.B_pointer, dtype)
    return model


def _compile_backend(program: DepthFirst, hidden_size: int | None, options: CompileOptions) -> Artifact:
    """The depth-first backend: stages 1-5 and what its checkpoint records (its layout too)."""
    model, lay, const = _compile(program, hidden_size, options.graph_size, MARGIN, options.x64)
    info = dict(max_nodes=const.max_nodes, resolution=const.delta, layout=lay.to_dict(),
                constants=dataclasses.asdict(const))
    summary = (f"full attention, {model.processor.nb_heads} heads; exact on graphs of up to {const.max_nodes} nodes "
               f"with ids at least 1/{const.max_nodes} apart")
    return Artifact(model, info, summary, lay)


register_backend(Backend("depth-first", DepthFirst, frozenset({"max_nodes", "x64"}), _compile_backend,
                         about="full attention, its own constants and mechanism"))
