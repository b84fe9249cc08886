"""The depth-first backend's second construction: CLRS ``dfs`` with all nine of dm-clrs'
hints (a ``DepthFirst`` program with ``trace="clrs"``), one full-attention GATv2 step per
hint, the hints fed back as the model's own decoded hints.

**Why this route.** The state of a search is its hints: colour, parent (``pi_h``), the
stack link (``s_prev``), the times (``d``, ``f``, ``time``) and the four cursors (``s``
the root, ``u`` the node being processed, ``v`` dm-clrs' loop variable, ``s_last`` the
top of the stack). Fed back, they arrive at step t exactly (every decoder wins by a
logit gap of at least ``MARGIN``, so its softmax is one-hot to float precision) and the
model need not carry them: H holds only what the hints do not say (the scans one step
ahead, the parent's scan, the clock, and the parent's id). Each step re-reads clean
hints, so an error in H does not build up over the 3n steps of a trace. Attention runs
over all nodes (``ModelConfig(full_attention=True)``): every node reads the cursor, and
the cursor's pop and push targets need not be its neighbours' neighbours (see
``docs/dfs/analysis.md`` for what one step along the edges can and cannot see).

**A step**, from hint t (its kind at the cursor u: A a new root, white; B a discovery,
grey with ``s_last`` = u; C a push, grey with ``s_last`` the pushed node; D a finish,
black) to hint t + 1:

- A(s') -> B(s'): s' turns grey, d = time + 0.01, time += 0.01;
- B(x) -> C(x -> w) if x has a white out-neighbour (w the lowest id): w turns grey, its
  parent and stack link are x, ``s_last`` = ``v`` = w; else -> D(x): x turns black,
  f = time + 0.01, ``v`` = n - 1;
- C(x -> w) -> B(w): u = w, d[w] = time + 0.01;
- D(y), y with a parent p: y pops (``s_prev[y]`` = y), p becomes u and scans at once:
  -> C(p -> w) or D(p); D(r), r a root: the lowest white node s' becomes s, u, v and
  ``s_last`` (-> A(s')).

**Heads** (8, of ``hidden_size / 8`` channels; three hold only slots that read no
attention):

0. *scan*: receiver i selects its lowest-id white out-neighbour that is not the cursor
   (``adj``: i -> j); its id (``ws``) and whether there is one (``found``) are right at
   the next hint, since a step changes at most one colour and never that of a candidate
   it then uses;
1. *cursor*: every node selects u and reads its kind, its scan and its parent's: the
   clock's tick, a finish (``v`` becomes n - 1), a tree's end (no one claims the
   cursors, the decoders' default picks the lowest white node);
2. *push*: receiver i selects u when u pushes to i: at B the target is u's own ``ws``, at
   D (with a parent) its parent's (``pws``, read one step earlier);
3. *pop*: receiver i selects u when u is at D and i is its parent;
4. *parent*: receiver i selects its parent (the ``pi_h`` edge feature): its id and scan.

"The cursor has a parent" is read from the hints as "the cursor is not the root ``s``";
the clock is the one quantity H carries from step to step (in time units, so every slot
stays below ~3 and a small relative change of a weight row moves it little).

Id equality (push, pop) is a V-shaped logit ``-L·|target_j - x_i|`` switched on by the
sender's flags (``relu`` pairs whose arguments stay within a few units): no term is
large and cancelled, so small weight changes move logits by small amounts. Each slot is
``relu(linear)`` with arguments that are integers or ids; a condition that must hold
enters as ``-M·(unmet)``, one-sided, so a slot is exactly 0 or its value.

**Decoders**: ``color`` from the old colour plus the events; ``u``, ``s``, ``v``,
``s_last`` from claims (the node that takes the cursor) over a default that prefers white
nodes and then low ids (a new root), turned at a finish into one that prefers high ids
(``v`` = n - 1); ``pi_h``, ``pi`` and ``s_prev`` by eq. 31's position match; ``d``, ``f`` the old value plus the event's
time; ``time`` the clock.

Modules: this one (stage 4, the processor into the shared ``Weights``, and stage 5, the
probes) and ``_dfs_trace_layout.py`` (stages 2-3: the layout and ``TraceConstants``).
"""

import numpy as np

from ..nn import Model
from ._dfs_trace_layout import TraceConstants, state_slots
from ._dfs_weights import HeadWeights
from ._layout import Layout
from ._weights import _write, write_encoder, write_pointer_decoder


def compile_trace_processor(lay: Layout, c: TraceConstants) -> HeadWeights:
    """The processor's weights at ``lay`` (``trace_layout``)."""
    w = HeadWeights(lay, state_slots)
    _scan(w, c)
    _cursor(w, c)
    _push(w, c)
    _pop(w, c)
    _parent(w, c)
    _own(w, c)
    return w


def _scan(w: HeadWeights, c: TraceConstants) -> None:
    """Head 0: the lowest-id white out-neighbour that is not the cursor."""
    z, h, k = w.feature("scan", "penalty")  # (1 - adj_ij) + (1 - white_j) + u_j
    w.W["W_edge"][z, w.lay.e("edge:adj")] = -1.0
    w.lin("W_out", z, {"white": -1.0, "u": 1.0, "1": 2.0})
    w.omega[h, k] = -c.M_scan
    w.linear_feature("scan", "id", {"idx": 1.0}, -c.L_scan)
    # Σα(adj + white - u) is 2 for a candidate, at most 1 for any other node
    w.slot("found", {"1": -1.0}, {"white": 1.0, "u": -1.0}, {"edge:adj": 1.0})
    w.slot("ws", {"1": -2 * c.M_id}, {"idx": 1.0, "white": c.M_id, "u": -c.M_id}, {"edge:adj": c.M_id})


def _cursor(w: HeadWeights, c: TraceConstants) -> None:
    """Head 1: everyone reads the cursor, whose kind is linear in its hints: A white, B
    grey with ``s_last`` at itself, C ``s_last`` elsewhere, D black."""
    w.linear_feature("cursor", "cur", {"u": 1.0}, c.P)
    # the clock (in time units): a tick after A (white cursor) and C (s_last elsewhere), and at a finish;
    # the cursor has a parent unless it is the root s
    t = c.tick
    w.slot("tick", {"clock": 1.0}, {"white": t, "s_last": -t, "1": t})
    w.slot("tick_B", {}, {"grey": t, "s_last": t, "found": -t, "1": -t})  # B(x), nothing found: D(x)
    w.slot("tick_D", {}, {"black": t, "s": -t, "pfound": -t})  # D(y), y not the root, its parent finds nothing
    # v = n - 1 next: 2·x_i + 2·(1 - white_i), which cancels the decoders' default and prefers high ids
    M = c.M_last
    w.slot("last_B", {"idx": 2.0, "white": -2.0, "1": 2.0}, {"grey": M, "s_last": M, "found": -M, "1": -2 * M})
    w.slot("last_D", {"idx": 2.0, "white": -2.0, "1": 2.0}, {"black": M, "s": -M, "pfound": -M, "1": -M})
    # s stays unless the root finishes (the cursor black and the root)
    w.slot("root_a", {"s": 1.0}, {"black": -1.0})
    w.slot("root_b", {"s": 1.0}, {"s": -1.0})


def _pusher_flags() -> tuple[dict, dict]:
    """What a sender lacks to be a pusher at B (grey cursor at s_last that found a node)
    and at D (black cursor, not the root, whose parent's scan found one): integers >= 0."""
    unmet_B = {"1": 4.0, "u": -1.0, "grey": -1.0, "s_last": -1.0, "found": -1.0}
    unmet_D = {"1": 3.0, "u": -1.0, "black": -1.0, "s": 1.0, "pfound": -1.0}
    return unmet_B, unmet_D


def _push(w: HeadWeights, c: TraceConstants) -> None:
    """Head 2: the pushed node selects the cursor."""
    w.linear_feature("push", "cur", {"u": 1.0}, -c.P)  # a cursor that does not push scores -P
    unmet_B, unmet_D = _pusher_flags()
    for name, unmet in (("B", unmet_B), ("D", unmet_D)):
        is_pusher = {k: -v for k, v in unmet.items() if k != "1"} | {"1": 1.0 - unmet["1"]}  # 1 - unmet
        w.relu("push", name, {}, is_pusher, 2 * c.P)
    w.match("push", "toB", "ws", unmet_B, c.L_match, c.B_match)
    w.match("push", "toD", "pws", unmet_D, c.L_match, c.B_match)
    # receiver: white and not the cursor (so a one-node graph, whose cursor selects itself, pushes nothing)
    not_target = {"u": 1.0, "grey": 1.0, "black": 1.0}
    M = c.M_id
    w.slot("pushed", {n: -v for n, v in not_target.items()}, {"u": 1.0})
    gate = {n: -M * v for n, v in not_target.items()} | {"1": -M}
    w.slot("push_x", {"idx": 1.0, **gate}, {"u": M})
    w.slot("parent_B", gate, {"idx": 1.0, "u": M, "black": -M})  # the cursor's id (it pushes at B)
    w.slot("parent_D", gate | {"1": -2 * M}, {"pv": 1.0, "u": M, "black": M})  # its parent's (it pops at D)


def _pop(w: HeadWeights, c: TraceConstants) -> None:
    """Head 3: the parent of a finished cursor selects it."""
    w.linear_feature("pop", "cur", {"u": 1.0}, -c.P)
    unmet = {"1": 2.0, "u": -1.0, "black": -1.0, "s": 1.0}  # the cursor, black, not the root
    w.relu("pop", "D", {}, {"u": 1.0, "black": 1.0, "s": -1.0, "1": -1.0}, 2 * c.P)
    w.match("pop", "to", "pv", unmet, c.L_match, c.B_match)
    w.slot("popped", {"u": -1.0}, {"u": 1.0})
    w.slot("finish_pop", {"u": -1.0, "found": -1.0}, {"u": 1.0})
    M = c.M_time
    w.slot("f_pop", {"clock": 1.0, "u": -M, "found": -M, "1": c.tick - M}, {"u": M})


def _parent(w: HeadWeights, c: TraceConstants) -> None:
    """Head 4: the parent (a root: itself)."""
    z, h, k = w.feature("parent", "pi")
    w.W["W_edge"][z, w.lay.e("edge:pi_h")] = 1.0
    w.omega[h, k] = c.P
    w.slot("pv", {}, {"idx": 1.0})
    w.slot("pws", {}, {"ws": 1.0})
    w.slot("pfound", {}, {"found": 1.0})
    w.slot("stack_grey", {"black": -c.M_id}, {"idx": 1.0})  # s_prev: the parent, unless black


def _own(w: HeadWeights, c: TraceConstants) -> None:
    """The slots that read no attention: the node's own hints and H."""
    M, Mc, t = c.M_id, c.M_time, c.tick
    w.slot("start", {"u": 1.0, "grey": -1.0, "black": -1.0})  # A: the white cursor turns grey
    w.slot("stay_B", {"u": 1.0, "grey": 1.0, "s_last": 1.0, "1": -2.0})  # B: the cursor stays
    w.slot("take_C", {"s_last": 1.0, "u": -1.0})  # C: the pushed node takes the cursor
    w.slot("finish_B", {"u": 1.0, "grey": 1.0, "s_last": 1.0, "found": -1.0, "1": -2.0})
    w.slot("d_A", {"clock": 1.0, "u": Mc, "grey": -Mc, "black": -Mc, "1": t - Mc})
    w.slot("d_C", {"clock": 1.0, "s_last": Mc, "u": -Mc, "1": t - Mc})
    w.slot("f_B", {"clock": 1.0, "u": Mc, "grey": Mc, "s_last": Mc, "found": -Mc, "1": t - 3 * Mc})
    w.slot("top_A", {"s_last": 1.0, "u": 1.0, "grey": -1.0, "black": -1.0, "1": -1.0})
    w.slot("v_A", {"v": 1.0, "u": 1.0, "grey": -1.0, "black": -1.0, "1": -1.0})
    w.slot("v_C", {"v": 1.0, "s_last": 1.0, "u": -1.0, "1": -1.0})
    w.slot("stack_self", {"idx": 1.0, "black": M, "1": -M})  # s_prev of a black node: itself


#: Per mask-one hint, the slots of the new state that claim it (the node that takes the cursor).
CLAIMS = {
    "u": ("start", "stay_B", "take_C", "popped"),
    "s": ("root_a", "root_b"),
    "s_last": ("pushed", "finish_pop", "top_A", "finish_B", "take_C"),
    "v": ("pushed", "v_A", "v_C"),
}


def compile_trace_probes(model: Model, lay: Layout, c: TraceConstants, dtype) -> Model:
    """Stage 5: encoders of the inputs and the fed-back hints; every hint's decoder."""
    s = model.hidden_size
    model = write_encoder(model, "pos", lay.v("idx"), dtype)
    model = write_encoder(model, "adj", lay.e("edge:adj"), dtype)
    model = write_encoder(model, "pi_h", lay.e("edge:pi_h"), dtype)
    for name in ("u", "s", "v", "s_last", "d", "f"):
        model = write_encoder(model, name, lay.v(name), dtype)
    colour = np.zeros((s, 3))
    for k, name in enumerate(("white", "grey", "black")):
        colour[lay.v(name), k] = 1.0
    model = _write(model, lambda m: m.encoders["color"].W.weight, colour, dtype)

    V = lambda name: lay.v(name)  # noqa: E731  h_t = [V | H_prev | H_new]
    new = lambda slot: 2 * s + lay.h(slot)  # noqa: E731

    def node(probe: str, W: np.ndarray, b: np.ndarray | float = 0.0):
        nonlocal model
        model = _write(model, lambda m: m.decoders[probe].W.weight, W, dtype)
        model = _write(model, lambda m: m.decoders[probe].W.bias, np.atleast_1d(np.asarray(b, float)), dtype)

    events = {"white": {"pushed": -1.0, "start": -1.0},
              "grey": {"finish_B": -1.0, "finish_pop": -1.0, "pushed": 1.0, "start": 1.0},
              "black": {"finish_B": 1.0, "finish_pop": 1.0}}
    W = np.zeros((3, 3 * s))
    for k, name in enumerate(("white", "grey", "black")):
        W[k, V(name)] = c.G
        for slot, coeff in events[name].items():
            W[k, new(slot)] += c.G * coeff
    node("color", W, np.zeros(3))
    for probe, claims in CLAIMS.items():
        W = np.zeros((1, 3 * s))
        W[0, V("white")] += 2 * c.L_default
        W[0, V("idx")] -= c.L_default
        for slot in claims:
            W[0, new(slot)] += c.G_claim
        if probe == "v":
            W[0, new("last_B")] += c.L_default
            W[0, new("last_D")] += c.L_default
        node(probe, W)
    for probe, old, slots in (("d", "d", ("d_A", "d_C")), ("f", "f", ("f_B", "f_pop"))):
        W = np.zeros((1, 3 * s))
        W[0, V(old)] = 1.0
        for slot in slots:
            W[0, new(slot)] = 1.0
        node(probe, W)
    W = np.zeros((1, 3 * s))
    for slot, coeff in state_slots("clock"):
        W[0, new(slot)] = coeff  # node_max of each: every node holds the same clock
    model = _write(model, lambda m: m.decoders["time"].W_n.weight, W, dtype)
    pushed_in = [(new("push_x"), -1.0), (new("parent_B"), 1.0), (new("parent_D"), 1.0)]
    pointer = [(new("pv"), 1.0)] + pushed_in
    stack = [(new("stack_grey"), 1.0), (new("stack_self"), 1.0)] + pushed_in
    for probe, terms in (("pi_h", pointer), ("pi", pointer), ("s_prev", stack)):
        model = write_pointer_decoder(model, probe, terms, V("idx"), c.C_pointer, c.B_pointer, dtype)
    return model
