"""A compiled depth-first search: a ``DepthFirst`` program (the fork's ``dfs_light``,
``eqgat.programs.dfs_light``) in one full-attention GATv2 step per hint
(``ModelConfig(full_attention=True)``, three working heads).

Stages, as for graph programs: ``analyse_depth_first`` (stage 1: the program against
the probe spec, every problem in one error, a ``DfsPlan``), the fixed layout of named
slots and attention features (``SLOTS``, ``STATE``, ``FEATURES``, stage 2),
``DfsConstants`` (stage 3), ``compile_processor_dfs`` (stage 4) and the probes (stage 5,
in ``compile_depth_first``).

``dfs_light`` cannot be computed by the CLRS GATv2, whose attention follows the edges: a
tree may start in another weakly connected component, and an isolated node cannot learn
that every other node is finished (``eqgat.locality``, docs/dfs/analysis.md). With
attention over all nodes, the smallest change that removes that obstruction, it compiles.

**The state** (named directions of the hidden state H, read as sums of slots, see
``STATE``): the colour (``grey``, ``black``; white is neither), ``cur`` (the node the
algorithm stands on: the top of the stack, or a new root), the parent pointer (``hp``
has a parent, ``pv`` its id), ``begun`` (0 only before step 0), and the *scan*, computed
one step ahead: ``ws``, the id of the node's lowest-id white out-neighbour other than
itself, and ``found`` (there is one). The stack needs no storage of its own: dfs_light's
``s_prev`` of a grey node is its parent.

**One step**, for every node at once, reads the state at hint t and writes hint t+1:

- the cursor is white (a new root): it turns grey;
- the cursor is grey and ``found``: node ``ws(cursor)`` turns grey, takes the cursor as
  its parent and becomes the cursor (a *push*);
- the cursor is grey, nothing ``found``: it turns black, and its parent, if it has one,
  becomes the cursor (a *pop*);
- there is no cursor (a tree is finished): the lowest-id white node becomes the cursor
  (a hint with no change, as in dfs_light); before step 0 it also turns grey.

``ws`` is computed a step early, from the colours at hint t, and used at t+1; it is still
right then, because a step changes one colour: the node that turns grey is the scanner
itself (excluded as "other than itself"), or a grey node turns black.

**Heads** (each a minimum selection with a default, eqs. 5-9; ``d`` = 4 with
``hidden_size`` = 4m, head 3 unused so that 128 = 4 x 32 works):

0. *scan*: receiver i selects its lowest-id white out-neighbour j != i (``adj`` is the
   edge feature E_ij, i -> j); a non-candidate wins when there is none (value <= 0).
1. *cursor moves*: receiver i selects the cursor if the cursor's move targets i (its
   ``ws`` or, popping, its parent equals i's id); otherwise any non-cursor node.
2. *roots*: receiver i selects the cursor if there is one, else the lowest white node
   with a lower id than its own, else itself.

Equality of two ids inside a logit is a *bump*: with σ the leaky ReLU of slope a,
``σ(h - K·u) + σ(h + K·u) - K·σ(u) - K·σ(-u) = (1 - a)·relu(h - K·|u|) + const``, which
is (1 - a)·h at u = 0 and exactly 0 for |u| >= h/K; a condition (a flag that must be 1)
is folded in by shifting u by 4 per unmet flag. ``relu(z)`` itself is
``(σ(z) + a·σ(-z)) / (1 - a²)``. Every other quantity is a linear feature >= 0.

**Resolution.** Node ids (``pos``) must increase with the node index (dm-clrs' i/n and
its sorted random ids do) and be at least ``1/max_nodes`` apart; then every selection
wins by a logit gap of at least ``MARGIN`` and every slot is exactly 0 or its value.
"""

import dataclasses
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._config import ModelConfig
from .._gatv2 import LEAKY_SLOPE
from .._model import Model
from .._spec import Location, Stage, Type
from ..algorithms import get_spec
from ..lang import Colour, DepthFirst, Pointer, Term
from ._analyse import _Problems
from ._compile import Artifact, Backend, register_backend
from ._constants import DEFAULT_MAX_NODES, MARGIN
from ._options import CompileOptions
from ._processor import _write, _zeros_like

#: Heads of the compiled model: scan, cursor moves, roots, and one unused (4 divides 128).
HEADS = ("scan", "move", "root", "unused")

#: Hidden-state slots per head block (a slot reads the values of its own head only);
#: the last block holds the slots that read no attention at all. Each is relu(linear):
#:
#: - ``fv``: the scan found a candidate (value 1) or not; ``ws``: its id (0 if none);
#:   ``sw``: at step 0 only, the scan selected the node itself (so not found);
#: - ``push`` / ``popto``: the cursor pushes to / pops to this node; ``pvnew``: the
#:   cursor's id, taken as parent on a push; ``qb``: the own id, removed from the
#:   pointer on a push;
#: - ``newroot``: no cursor, and this is the lowest white node; ``root0``: the same
#:   before step 0 (it also turns grey);
#: - ``gk1``: grey and not the cursor; ``gk2``: a grey cursor that pushes (stays grey);
#:   ``gG``: a white cursor (turns grey, stays the cursor); ``bk``: black; ``bF``: a
#:   grey cursor that finds nothing (turns black); ``begun``: 1 after step 0;
#:   ``pvk``/``hpk``: the parent id / has-parent kept; ``qa``: the own id while no parent.
SLOTS = {
    "scan": ("fv", "ws", "sw"),
    "move": ("push", "popto", "pvnew", "qb"),
    "root": ("newroot", "root0"),
    "unused": ("gk1", "gk2", "gG", "bk", "bF", "begun", "pvk", "hpk", "qa"),
}

#: Each part of the state as a sum of slots (coefficient +1 unless given).
STATE = {
    "grey": ("gk1", "gk2", "gG", "push", "root0"),
    "black": ("bk", "bF"),
    "cur": ("gG", "push", "popto", "newroot"),
    "hp": ("hpk", "push"),
    "pv": ("pvk", "pvnew"),
    "found": ("fv", ("sw", -1.0)),
    "ws": ("ws",),
    "begun": ("begun",),
    # the parent pointer's id: pv, or the node's own id while it has no parent
    "pi": ("pvk", "pvnew", "qa", ("qb", -1.0)),
}

#: Attention features (ζ channels) per head.
FEATURES = {
    "scan": ("pen", "id", "self_a", "self_b", "self_c", "self_d", "low+", "low-"),
    "move": ("cur", "push_a", "push_b", "push_c", "push_d", "pop_a", "pop_b", "pop_c", "pop_d"),
    "root": ("cur", "lower+", "lower-", "self_a", "self_b", "self_c", "self_d"),
    "unused": (),
}

#: The node id (``pos``) in V and the adjacency (``adj``, with self loops) in E.
V_ID, E_ADJ = 0, 0


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
    colour_probes, parent_probes = [], []
    for probe, comp in program.probes.items():
        p = spec.get(probe)
        if p is None or p.stage == Stage.INPUT:
            fail(f"{probe!r} is not a hint or output of {program.algorithm}")
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
    missing = [p.name for p in spec.values() if p.stage != Stage.INPUT and p.name not in program.probes]
    if missing:
        fail(f"probes {missing} of the spec are not decoded by the program")
    fail.raise_any()
    return DfsPlan(program, program.idx, adj, tuple(colour_probes), tuple(parent_probes))


def minimal_hidden_size() -> int:
    """The smallest hidden size: 4 heads of m channels, m the most slots or features a
    head needs."""
    m = max(max(len(v) for v in SLOTS.values()), max(len(v) for v in FEATURES.values()))
    return len(HEADS) * m


@dataclass(frozen=True)
class DfsConstants:
    """The constants of the compiled ``dfs_light`` for graphs of at most ``max_nodes``
    nodes (ids at least δ = 1/max_nodes apart). ``margin``: the least logit gap of every
    selection."""

    max_nodes: int
    margin: float = MARGIN

    @property
    def delta(self) -> float:
        return 1.0 / self.max_nodes

    @property
    def K_id(self) -> float:
        """K·(x_i - x_j) >= 1 for ids a δ apart."""
        return 1.0 / self.delta

    # scan (head 0): candidates in [-L1, 0], non-candidates <= -M1, self below them, and
    # at step 0 lower ids below self
    @property
    def L1(self) -> float:
        return 2 * self.margin / self.delta

    @property
    def M1(self) -> float:
        return self.L1 + 2 * self.margin

    @property
    def P_self(self) -> float:
        return 2 * self.M1 + self.L1 + 2 * self.margin

    @property
    def P_low(self) -> float:
        return self.P_self + self.M1 + self.L1 + 2 * self.margin

    # moves (head 1): matched cursor +B, other nodes 0, an unmatched cursor -B
    @property
    def B(self) -> float:
        return 2 * self.margin

    # roots (head 2): self S, a lower white >= W_low, the cursor above every lower white
    @property
    def S(self) -> float:
        return 2 * self.margin

    @property
    def W_low(self) -> float:
        return self.S + 2 * self.margin

    @property
    def P_cur(self) -> float:
        return self.W_low * (self.K_id + 1) + 2 * self.margin

    #: gate of ``ws``, ``pvnew``, ``qb``, ``qa`` (values below 1 against flags)
    M_small: float = 2.0

    @property
    def M_big(self) -> float:
        """Gate against a term up to 1 + K_id (``sw``, ``newroot``)."""
        return self.K_id + 2.0

    #: decoders: the colour logits' gain and the pointer decoder's c·δ
    G: float = 100.0

    @property
    def C_pointer(self) -> float:
        return 2 * self.margin / self.delta


def slot_index(name: str, hidden_size: int) -> int:
    """The row of H that holds slot ``name`` (block of its head, then its place there)."""
    m = hidden_size // len(HEADS)
    for h, names in enumerate(SLOTS.values()):
        if name in names:
            return h * m + names.index(name)
    raise KeyError(f"no slot {name!r}; slots: {[n for v in SLOTS.values() for n in v]}")


def state_slots(name: str) -> list[tuple[str, float]]:
    """State part ``name`` (``STATE``) as (slot, coefficient) pairs."""
    return [(item, 1.0) if isinstance(item, str) else item for item in STATE[name]]


def read_state(hidden: np.ndarray, name: str) -> np.ndarray:
    """State part ``name`` (``STATE``) from hidden states ``[..., s]``: the sum of its slots."""
    s = hidden.shape[-1]
    out = np.zeros(hidden.shape[:-1])
    for slot, coeff in state_slots(name):
        out = out + coeff * hidden[..., slot_index(slot, s)]
    return out


def dfs_state(hidden: np.ndarray, name: str) -> np.ndarray:
    """From hidden states ``[..., s]`` of a compiled ``DepthFirst`` program: the state
    part ``name`` (``STATE``, e.g. ``"grey"``, ``"found"``) or, for a name that is only a
    slot (``SLOTS``, e.g. ``"push"``), that slot."""
    if name in STATE:
        return read_state(hidden, name)
    return hidden[..., slot_index(name, hidden.shape[-1])]


class _W:
    """The processor's weights as float64 buffers (rows of W_val/W_skip: H slots; rows of
    W_in/W_out/W_edge: ζ channels; columns of C = [V | H]: V then H)."""

    def __init__(self, s: int):
        self.s, self.m = s, s // len(HEADS)
        self.W = {k: np.zeros((s, 2 * s)) for k in ("W_val", "W_skip", "W_out", "W_in")}
        self.W["W_edge"] = np.zeros((s, s))
        self.W["W_info"] = np.zeros((s, s))
        self.b = {k: np.zeros(s) for k in ("W_val", "W_skip", "W_out", "W_in", "W_edge", "W_info")}
        self.omega = np.zeros((len(HEADS), self.m))

    def slot(self, name: str) -> int:
        return slot_index(name, self.s)

    def feature(self, head: str, name: str) -> tuple[int, int]:
        """(row of ζ, index in the head's ω) of a feature."""
        h = HEADS.index(head)
        k = FEATURES[head].index(name)
        return h * self.m + k, k

    def lin(self, W: str, row: int, terms: dict, const: float = 0.0) -> None:
        """row += Σ coeff·(state part or "x") + const, reading C of the receiver (W_skip,
        W_in) or of the sender (W_val, W_out)."""
        for name, coeff in terms.items():
            if name == "x":
                self.W[W][row, V_ID] += coeff
                continue
            for slot, c in state_slots(name):
                self.W[W][row, self.s + self.slot(slot)] += coeff * c
        self.b[W][row] += const


def _relu_pair(w: _W, head: str, names: tuple[str, str], receiver: dict, sender: dict, const: float,
               omega: float) -> None:
    """omega·relu(z), z = receiver + sender + const, as (σ(z) + a·σ(-z)) / (1 - a²)."""
    a = LEAKY_SLOPE
    for name, sign, om in ((names[0], 1.0, omega / (1 - a * a)), (names[1], -1.0, a * omega / (1 - a * a))):
        z, k = w.feature(head, name)
        w.lin("W_in", z, {n: sign * c for n, c in receiver.items()})
        w.lin("W_out", z, {n: sign * c for n, c in sender.items()}, sign * const)
        w.omega[HEADS.index(head), k] = om


def _bump(w: _W, head: str, prefix: str, sender: dict, receiver: dict, const: float, peak: float,
          width: float) -> None:
    """+peak at u = 0 and exactly 0 for |u| >= width, u = sender + receiver + const."""
    a = LEAKY_SLOPE
    K = 1.0 / width  # relu(1 - K|u|): h = 1
    scale = peak / (1 - a)
    for suffix, h, k_u, om in (("a", 1.0, -K, scale), ("b", 1.0, K, scale), ("c", 0.0, 1.0, -K * scale),
                               ("d", 0.0, -1.0, -K * scale)):
        z, k = w.feature(head, f"{prefix}_{suffix}")
        w.lin("W_out", z, {n: k_u * c for n, c in sender.items()}, h + k_u * const)
        w.lin("W_in", z, {n: k_u * c for n, c in receiver.items()})
        w.omega[HEADS.index(head), k] = om


def compile_processor_dfs(s: int, const: DfsConstants) -> _W:
    """The processor's weights: the three selections and every slot's update."""
    w = _W(s)
    c = const
    WHITE = {"grey": -1.0, "black": -1.0}  # white = 1 + these

    # ---- head 0, scan: the lowest-id white out-neighbour other than the node itself
    z, k = w.feature("scan", "pen")  # 1 - adj_ij + grey_j + black_j >= 0, 0 for candidates
    w.W["W_edge"][z, E_ADJ] = -1.0
    w.lin("W_out", z, {"grey": 1.0, "black": 1.0}, 1.0)
    w.omega[0, k] = -c.M1
    z, k = w.feature("scan", "id")  # x_j: the lowest id wins
    w.lin("W_out", z, {"x": 1.0})
    w.omega[0, k] = -c.L1
    _bump(w, "scan", "self", {"x": 1.0}, {"x": -1.0}, 0.0, -c.P_self, c.delta / 2)  # j = i loses
    # before step 0's scan only (begun = 0), lower ids lose even to the node itself: node
    # 0, the one whose scan matters, has no lower ids, and every other node's
    # self-detector ``sw`` then stays exactly 0 or 1
    _relu_pair(w, "scan", ("low+", "low-"), {"x": c.K_id, "begun": -2 * c.K_id}, {"x": -c.K_id}, 0.0, -c.P_low)
    # values: v = Σα(adj_ij + white_j) - 1 is 1 for a candidate, <= 0 for anyone else
    r = w.slot("fv")
    w.W["W_info"][r, E_ADJ] = 1.0
    w.lin("W_val", r, WHITE, 1.0)
    w.b["W_skip"][r] = -1.0
    r = w.slot("ws")  # relu(Σα x_j + M(v - 1)): the id when found, else 0
    M = c.M_small
    w.W["W_info"][r, E_ADJ] = M
    w.lin("W_val", r, {"x": 1.0, **{n: M * v for n, v in WHITE.items()}}, M)
    w.b["W_skip"][r] = -2 * M
    r = w.slot("sw")  # step 0: the node selected itself (no other node scanned): not found
    w.lin("W_val", r, {"x": -c.K_id})
    w.lin("W_skip", r, {"x": c.K_id, "begun": -c.M_big}, 1.0)

    # ---- head 1, cursor moves: push to ws(cursor) or pop to parent(cursor)
    z, k = w.feature("move", "cur")
    w.lin("W_out", z, {"cur": 1.0})
    w.omega[1, k] = -c.B
    # push: u = ws_j - x_i + 4·(3 - cur_j - grey_j - found_j)
    _bump(w, "move", "push", {"ws": 1.0, "cur": -4.0, "grey": -4.0, "found": -4.0}, {"x": -1.0}, 12.0,
          2 * c.B, c.delta / 2)
    # pop: u = pv_j - x_i + 4·(3 - cur_j - grey_j + found_j - hp_j)
    _bump(w, "move", "pop", {"pv": 1.0, "cur": -4.0, "grey": -4.0, "found": 4.0, "hp": -4.0}, {"x": -1.0}, 12.0,
          2 * c.B, c.delta / 2)
    push = {"cur": 1.0, "grey": 1.0, "found": 1.0}  # Σα(push) - 2: 1 for a pushing cursor, <= 0 else
    w.lin("W_val", w.slot("push"), push, -2.0)
    w.lin("W_val", w.slot("popto"), {"cur": 1.0, "grey": 1.0, "found": -1.0, "hp": 1.0}, -2.0)
    M = c.M_small
    r = w.slot("pvnew")  # relu(x_cursor + M(push - 1)): the new parent's id
    w.lin("W_val", r, {"x": 1.0, **{n: M * v for n, v in push.items()}}, -2 * M)
    w.b["W_skip"][r] = -M
    r = w.slot("qb")  # relu(x_i + M(push - 1)): removes the own id from pi when pushed
    w.lin("W_val", r, {n: M * v for n, v in push.items()}, -2 * M)
    w.lin("W_skip", r, {"x": 1.0}, -M)

    # ---- head 2, roots: the cursor, else the lowest lower-id white node, else itself
    z, k = w.feature("root", "cur")
    w.lin("W_out", z, {"cur": 1.0})
    w.omega[2, k] = c.P_cur
    _relu_pair(w, "root", ("lower+", "lower-"), {"x": c.K_id}, {"x": -c.K_id, "grey": -c.K_id, "black": -c.K_id},
               0.0, c.W_low)
    _bump(w, "root", "self", {"x": 1.0}, {"x": -1.0}, 0.0, c.S, c.delta / 2)
    for name, gate in (("newroot", 0.0), ("root0", c.M_big)):
        # relu(1 - K(x_i - x_sel) - M·cur_sel - M·(grey_i + black_i) [- M·begun_i])
        r = w.slot(name)
        w.lin("W_val", r, {"x": c.K_id, "cur": -c.M_big})
        w.lin("W_skip", r, {"x": -c.K_id, "grey": -c.M_big, "black": -c.M_big, "begun": -gate}, 1.0)

    # ---- slots that read no attention
    w.lin("W_skip", w.slot("gk1"), {"grey": 1.0, "cur": -1.0})  # grey, not the cursor
    w.lin("W_skip", w.slot("gk2"), {"grey": 1.0, "cur": 1.0, "found": 1.0}, -2.0)  # a cursor that pushes
    w.lin("W_skip", w.slot("gG"), {"cur": 1.0, "grey": -1.0, "black": -1.0})  # a white cursor
    w.lin("W_skip", w.slot("bk"), {"black": 1.0})
    w.lin("W_skip", w.slot("bF"), {"grey": 1.0, "cur": 1.0, "found": -1.0}, -1.0)  # a cursor that finishes
    w.b["W_skip"][w.slot("begun")] = 1.0
    w.lin("W_skip", w.slot("pvk"), {"pv": 1.0})
    w.lin("W_skip", w.slot("hpk"), {"hp": 1.0})
    w.lin("W_skip", w.slot("qa"), {"x": 1.0, "hp": -c.M_small})  # the own id while no parent
    return w


def _state_columns(s: int, w: _W, name: str, offset: int) -> list[tuple[int, float]]:
    return [(offset + w.slot(slot), coeff) for slot, coeff in state_slots(name)]


def compile_depth_first(program: DepthFirst, hidden_size: int | None = None, *, max_nodes: int | None = None,
                        margin: float = MARGIN) -> Model:
    """Compile a ``DepthFirst`` ``program`` (module docstring) into an eqgat ``Model`` with
    ``full_attention``, 4 heads, ``use_edge_info`` and no layer norm; exact on graphs of
    at most ``max_nodes`` nodes (default 128) whose ids increase with the index and are
    at least 1/max_nodes apart."""
    plan = analyse_depth_first(program)
    s = minimal_hidden_size() if hidden_size is None else hidden_size
    if not isinstance(s, int) or s < minimal_hidden_size() or s % len(HEADS):
        raise ValueError(f"a compiled DepthFirst program needs a hidden size that is a multiple of {len(HEADS)} "
                         f"(one block per head) and at least {minimal_hidden_size()}, got {hidden_size!r}")
    max_nodes = DEFAULT_MAX_NODES if max_nodes is None else max_nodes
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    const = DfsConstants(max_nodes, margin)
    config = ModelConfig(program.algorithm, s, len(HEADS), use_ln=False, use_edge_info=True, full_attention=True)
    dtype = jnp.float32
    skeleton = eqx.filter_eval_shape(lambda: Model(config, key=jax.random.key(0)))
    model = _zeros_like(skeleton, dtype)
    w = compile_processor_dfs(s, const)
    proc = model.processor
    for f in ("W_val", "W_skip", "W_out", "W_in", "W_edge", "W_info"):
        proc = _write(proc, lambda p, f=f: getattr(p, f).weight, w.W[f], dtype)
        proc = _write(proc, lambda p, f=f: getattr(p, f).bias, w.b[f], dtype)
    proc = _write(proc, lambda p: p.omega, w.omega, dtype)
    model = eqx.tree_at(lambda m: m.processor, model, proc)
    return _compile_probes(plan, model, w, const, dtype)


def compile_dfs_light(hidden_size: int | None = None, *, max_nodes: int | None = None,
                      margin: float = MARGIN) -> Model:
    """``compile_depth_first(eqgat.programs.dfs_light, ...)``: the fork's DFS."""
    from ..algorithms.dfs_light import PROGRAM

    return compile_depth_first(PROGRAM, hidden_size, max_nodes=max_nodes, margin=margin)


def _compile_probes(plan: DfsPlan, model: Model, w: _W, const: DfsConstants, dtype) -> Model:
    """Stage 5: the id and the edge mask in; the colour and the parent pointer out."""
    s = model.hidden_size
    # encoders: the id into V, the adjacency (with self loops) into E
    unit = np.zeros((s, 1))
    unit[V_ID, 0] = 1.0
    model = _write(model, lambda m: m.encoders[plan.idx].W.weight, unit, dtype)
    unit = np.zeros((s, 1))
    unit[E_ADJ, 0] = 1.0
    model = _write(model, lambda m: m.encoders[plan.adj].W.weight, unit, dtype)

    # decoders read h_t = [V | H_prev | H_new]: the new state at 2s + slot
    new = lambda name: _state_columns(s, w, name, 2 * s)  # noqa: E731
    G = const.G
    W = np.zeros((3, 3 * s))
    b = np.array([G, 0.0, 0.0])
    for col, coeff in new("grey"):
        W[0, col] -= G * coeff
        W[1, col] += G * coeff
    for col, coeff in new("black"):
        W[0, col] -= G * coeff
        W[2, col] += G * coeff
    for probe in plan.colour_probes:
        model = _write(model, lambda m, p=probe: m.decoders[p].W.weight, W, dtype)
        model = _write(model, lambda m, p=probe: m.decoders[p].W.bias, b, dtype)
    # pointers (eq. 31): p1 = [π_i, π_i, -B], p2 = [x_j, -B, x_j], logit = -c·(2·max - π_i - x_j)
    Bp, cp = 4.0, const.C_pointer
    W1, b1 = np.zeros((s, 3 * s)), np.zeros(s)
    W2, b2 = np.zeros((s, 3 * s)), np.zeros(s)
    for col, coeff in new("pi"):
        W1[0, col] += coeff
        W1[1, col] += coeff
    b1[2] = -Bp
    W2[0, V_ID] = 1.0
    b2[1] = -Bp
    W2[2, V_ID] = 1.0
    W3 = np.zeros((1, s))
    W3[0, :3] = [-2 * cp, cp, cp]
    for probe in plan.parent_probes:
        for f, Wf, bf in (("W1", W1, b1), ("W2", W2, b2)):
            model = _write(model, lambda m, p=probe, f=f: getattr(m.decoders[p], f).weight, Wf, dtype)
            model = _write(model, lambda m, p=probe, f=f: getattr(m.decoders[p], f).bias, bf, dtype)
        model = _write(model, lambda m, p=probe: m.decoders[p].W3.weight, W3, dtype)
    return model


def _compile_backend(program: DepthFirst, hidden_size: int | None, options: CompileOptions) -> Artifact:
    """The depth-first backend: ``compile_depth_first`` and what its checkpoint records."""
    model = compile_depth_first(program, hidden_size, max_nodes=options.graph_size)
    const = DfsConstants(options.graph_size)
    info = dict(max_nodes=const.max_nodes, resolution=const.delta, constants=dataclasses.asdict(const))
    summary = (f"full attention, {len(HEADS)} heads; exact on graphs of up to {const.max_nodes} nodes with ids at least "
               f"1/{const.max_nodes} apart")
    return Artifact(model, info, summary)


register_backend(Backend("depth-first", DepthFirst, frozenset({"max_nodes"}), _compile_backend,
                         about="float32, full attention, its own constants and mechanism"))
