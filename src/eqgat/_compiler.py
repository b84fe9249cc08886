"""Neural compilation: a ``GraphProgram`` becomes every parameter of an eqgat ``Model``.

The compiler runs in stages, as tracr's does:

1. ``analyse``: check the program against what one GATv2 step can compute exactly and
   classify each component's update (a ``Plan``).
2. ``layout``: name the directions of the node features V, edge features E and hidden
   state H (tracr's basis directions), e.g. ``H['pi:take']``.
3. ``compile_processor``: W_val, W_skip (values and state upkeep), W_out/W_in/W_edge and
   ω (the minimum selection), W_info (edge terms of the update).
4. ``compile_encoders`` / ``compile_decoders``: the probes in and out.

How one step computes the round (module docstring of ``eqgat.lang`` has the semantics).
Let ``msk_j`` be node j's flag (stored flag + start input), ``x_j`` its id:

- *Selection.* Attention logit ``a_ij = L·(-expr_ij - ε·x_j) - L·K·(1 - msk_j)``: the
  softmax over senders picks the masked candidate with the least ``expr`` (lowest id on
  ties); unmasked senders lose by ``L·K``. With ``incumbent``, a flagged receiver adds
  ``-L·τ·|x_j - π_i|``, so on a tie its current parent π_i (whose ``expr`` equals the
  receiver's current value) wins: re-selecting the parent *is* keeping the incumbent,
  which avoids the self pair, whose edge term would be a self-loop's weight. The self
  pair without a self-loop (weight 0, unlike any edge) loses by ``P_SELF`` through a
  fourth feature, ``lrelu(1 - G_SELF·w_ij)``, whose leak on real edges (linear in w)
  the edge coefficient of feature 0 absorbs.
- *Update.* ``H' = relu(Σ_j α_ij ν_j + W_skip C_i)``. Each (component, case) gets its own
  slot, gated by a large M: ``relu(value + M·(gate - 1))`` is the value when the gate is 1
  and 0 when it is 0 or less. The gates are linear: ``Σ_j α_ij msk_j`` (was a masked
  candidate selected?) from the values, the receiver's own flag and start from the skip.
  A component reads as the sum of its slots.
- *Decoders.* Pointers use eq. 31: logit_ij = -c·|π_i - x_j| built from the pointer
  decoder's max as -c·(2·max(π_i, x_j) - π_i - x_j).

Every constant, and why its value keeps float32 exact, is in ``CONSTANTS``.
"""

from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._model import Model
from ._spec import Location, Stage, Type, get_spec
from .lang import Flag, GraphProgram, Pointer, Scalar

# Leaky ReLU slope of GATv2's σ (jax.nn.leaky_relu's default).
LEAK = 0.01

CONSTANTS = {
    "VALUE_BOUND": (
        16.0,
        "Upper bound on every scalar a program stores and every selected expr (CLRS "
        "Bellman-Ford distances stay far below it). Gates and margins are sized from it; "
        "it is kept small because a gate adds M ~ 2·VALUE_BOUND to a value before taking it "
        "away again, and float32 then keeps only ulp(M)/2 ≈ 2e-6 of the value's precision.",
    ),
    "K": (
        32.0,
        "Mask penalty (2·VALUE_BOUND) in the selection score: an unmasked sender scores "
        "below -K while any masked one scores above -VALUE_BOUND, so masks are exact.",
    ),
    "L": (
        1e7,
        "Logit scale. Scores differing by d give exp(-L·d): for d > 1e-5 the losing weight is "
        "below e^-100, so α is one-hot; a mixture of two candidates would decode to a node id "
        "between theirs, so near-ties must be sharp. Logits stay below "
        "L·(K + VALUE_BOUND) ≈ 5e8, under the adjacency bias c = 1e9 (eq. 8).",
    ),
    "EPS": (
        5e-6,
        "Lowest-index tie-break: ε·x_j with ids x in [0, 1): exact ties (integer weights) "
        "differ by L·ε/n = 50/n logits, enough for a mixture that still decodes to the "
        "right id. Real near-ties closer than ε (and τ) may resolve by "
        "id or incumbency instead of value: float32's ~1e-6 resolution of path lengths "
        "bounds how small ε can usefully be.",
    ),
    "TAU": (
        1.5e-5,
        "Incumbent (parent) preference, 3·ε: beats the id tie-break (ε per unit of id gap) "
        "so a receiver keeps its parent on an exact tie, as dm-clrs' strict '<' does.",
    ),
    "M_POINTER": (
        2.0,
        "Gate size for flag and pointer slots (values in [0, 1]): relu(v + M·(g - 1)) is v "
        "at g = 1 and 0 at g <= 0. Small, so a rounding error in g moves v by at most 2·ulp.",
    ),
    "M_SCALAR": (
        16.0,
        "Gate size for scalar slots (= VALUE_BOUND: relu(v - M) = 0 for every v <= M). As "
        "small as allowed: the gated value carries float32 rounding of ulp(M)/2 ≈ 1e-6.",
    ),
    "C_POINTER": (
        1e6,
        "Pointer decoder scale (eq. 31's c): logit_ij = -c·|π_i - x_j|. Node ids 1/n apart "
        "give margins of 1e6/n (7800 at n = 128): fed-back soft pointers are one-hot, so "
        "they add no edge to the adjacency, and argmax is exact.",
    ),
    "P_SELF": (
        1e3,
        "Logits by which an incumbent receiver's own pair (no self-loop) loses: e^-1000 = 0. "
        "It only ever ties with the parent, so any margin above ~100 logits is exact.",
    ),
    "G_SELF": (
        100.0,
        "Gain of the self-pair detector 1 - G·w: negative for every edge weight w >= 0.01 "
        "(CLRS weights are >= sqrt(1e-3) ≈ 0.032); programs with incumbents need such weights.",
    ),
    "B_POINTER": (
        4.0,
        "Constant that takes a pointer-decoder feature out of its max (values are in [0, 1]).",
    ),
    "G_FLAG": (
        100.0,
        "Flag decoder gain: logits ±50, sigmoid within 2e-22 of 0 or 1.",
    ),
}


#: Under ``jax_enable_x64`` the tie-breaks can be far smaller than float32 allows:
#: (value, reason) overrides used by ``compile_program(..., x64=True)``.
CONSTANTS_X64 = {
    "EPS": (1e-11, "float64 resolves path lengths to ~1e-15; exact ties then mix (L·ε = 1e-4)."),
    "TAU": (3e-11, "3·ε, as in float32."),
}



def constants(x64: bool = False) -> dict[str, float]:
    """The values the compiler writes: ``CONSTANTS``, with ``CONSTANTS_X64``'s tie-breaks
    under ``x64``."""
    table = {**CONSTANTS, **CONSTANTS_X64} if x64 else CONSTANTS
    return {name: value for name, (value, _reason) in table.items()}


@dataclass(frozen=True)
class Plan:
    """Stage 1's reading of a program."""

    program: GraphProgram
    flag: str | None  # the one flag component, if any
    start: str | None  # the mask input that sets it at the start
    mask: bool  # selection masked by the flag
    keep: bool  # flagged receivers keep their state
    incumbent: bool  # flagged receivers only move for a strictly better expr
    expr_other: tuple[tuple[str, float], ...]  # (component or 'idx', coeff)
    expr_edge: tuple[tuple[str, float], ...]  # (edge input, coeff)
    updates: tuple[tuple[str, str, tuple], ...]  # (component, kind, detail)
    edge_inputs: tuple[str, ...]
    use_edge_info: bool
    offset_pointers: frozenset  # pointers read from senders: stored relative to own id


def _fail(program: GraphProgram, msg: str):
    raise ValueError(f"cannot compile program for {program.algorithm!r}: {msg}")


def analyse(program: GraphProgram) -> Plan:
    """Stage 1: check ``program`` is compilable and classify its parts."""
    spec = {p.name: p for p in get_spec(program.algorithm)}
    hidden = dict(program.hidden)
    flags = [n for n, c in hidden.items() if isinstance(c, Flag)]
    if len(flags) > 1:
        _fail(program, f"at most one Flag component is supported, got {flags}")
    flag = flags[0] if flags else None
    start = hidden[flag].start if flag else None
    if start is not None:
        p = spec.get(start)
        if p is None or p.stage != Stage.INPUT or p.location != Location.NODE or p.type not in (Type.MASK, Type.MASK_ONE):
            _fail(program, f"Flag start {start!r} must be a node mask input of the spec")
    if program.idx not in spec or spec[program.idx].location != Location.NODE:
        _fail(program, f"node id input {program.idx!r} is not a node input")
    sel = program.select

    def flag_ref(term, scope, what):
        if term is None:
            return False
        s, n = term.single()
        if s != scope or n != flag:
            _fail(program, f"{what} must be {scope}.{flag}, got {term}")
        return True

    mask = flag_ref(sel.mask, "other", "mask")
    keep = flag_ref(sel.keep, "self", "keep")
    incumbent = flag_ref(sel.incumbent, "self", "incumbent")
    if keep and incumbent:
        _fail(program, "keep and incumbent exclude each other")
    if sel.expr.scopes - {"other", "edge"}:
        _fail(program, f"expr may only use other.* and edge.*, got {sel.expr}")
    expr_other, expr_edge = [], []
    for name, c in sel.expr.refs("other"):
        if name != "idx" and not isinstance(hidden.get(name), (Scalar, Pointer)):
            _fail(program, f"expr uses other.{name}, which is not a Scalar or Pointer component")
        expr_other.append((name, c))
    for name, c in sel.expr.refs("edge"):
        p = spec.get(name)
        if p is None or p.stage != Stage.INPUT or p.location != Location.EDGE or p.type != Type.SCALAR:
            _fail(program, f"edge.{name} is not an edge scalar input of {program.algorithm}")
        expr_edge.append((name, c))
    if set(program.update) != set(hidden):
        _fail(program, f"update must set every component {sorted(hidden)}, got {sorted(program.update)}")
    updates = []
    for name, comp in hidden.items():
        term = program.update[name]
        if isinstance(comp, Flag):
            if term.refs() != [(name, 1.0)] or term.scopes != {"other"}:
                _fail(program, f"flag {name} must be updated as other.{name}")
            if not mask:
                _fail(program, f"flag {name} needs mask=other.{name} (it spreads from masked senders)")
            updates.append((name, "flag", ()))
        elif term == sel.expr and isinstance(comp, Scalar):
            updates.append((name, "expr", ()))
        else:
            s, ref = term.single()
            if s != "other":
                _fail(program, f"{name} must be set from other.*, got {term}")
            if ref == "idx":
                if not isinstance(comp, Pointer):
                    _fail(program, f"other.idx can only set a Pointer ({name})")
                updates.append((name, "idx", ()))
            elif type(hidden.get(ref)) is type(comp):
                updates.append((name, "copy", (ref,)))
            else:
                _fail(program, f"{name} = other.{ref}: not a component of the same kind")
    if incumbent:
        kinds = {k for _, k, _ in updates}
        if "expr" not in kinds or "idx" not in kinds:
            _fail(program, "incumbent needs a Scalar set to expr and a Pointer set to other.idx (the parent)")
        if not expr_edge:
            _fail(program, "incumbent needs an edge weight in expr (it tells the receiver from its neighbours)")
    for probe, comp in program.probes.items():
        if probe not in spec or spec[probe].stage == Stage.INPUT:
            _fail(program, f"{probe!r} is not a hint or output of {program.algorithm}")
        if comp not in hidden:
            _fail(program, f"probe {probe!r} decodes unknown component {comp!r}")
        want = {Flag: (Type.MASK,), Scalar: (Type.SCALAR,), Pointer: (Type.POINTER,)}[type(hidden[comp])]
        if spec[probe].type not in want or spec[probe].location != Location.NODE:
            _fail(program, f"probe {probe!r} ({spec[probe].type}) cannot decode {type(hidden[comp]).__name__} {comp!r}")
    missing = [p.name for p in spec.values() if p.stage != Stage.INPUT and p.name not in program.probes]
    if missing:
        _fail(program, f"probes {missing} of the spec are not decoded by the program")
    use_edge_info = any(k == "expr" for _, k, _ in updates) and bool(expr_edge)
    # A pointer read from a sender must read "itself" while unset, also at step 0 when
    # H = 0: such pointers are stored as offsets x_i - π_i (split in +/- slots).
    read = {n for n, _ in expr_other} | {d[0] for _, k, d in updates if k == "copy"}
    offsets = frozenset(n for n in read if isinstance(hidden.get(n), Pointer))
    return Plan(program, flag, start, mask, keep, incumbent, tuple(expr_other), tuple(expr_edge),
                tuple(updates), tuple(n for n, _ in expr_edge), use_edge_info, offsets)


@dataclass(frozen=True)
class Layout:
    """Stage 2: named directions of V, E and H (each a tuple of names, index = slot)."""

    V: tuple[str, ...]
    E: tuple[str, ...]
    H: tuple[str, ...]
    hidden_size: int

    def v(self, name: str) -> int:
        return self.V.index(name)

    def e(self, name: str) -> int:
        return self.E.index(name)

    def h(self, name: str) -> int:
        return self.H.index(name)

    def slots(self, component: str) -> list[int]:
        """H slots that hold ``component``."""
        return [i for i, n in enumerate(self.H) if n == component or n.startswith(component + ":")]

    def terms(self, component: str) -> list[tuple[str, int, float]]:
        """``component``'s value as a signed sum of ('V' | 'H', slot, sign): the sum of
        its slots, or for an offset pointer x - Σ(+ slots) + Σ(- slots)."""
        slots = self.slots(component)
        if any(self.H[k].endswith(("+", "-")) for k in slots):
            return [("V", self.v("idx"), 1.0)] + [("H", k, -1.0 if self.H[k].endswith("+") else 1.0) for k in slots]
        return [("H", k, 1.0) for k in slots]


def layout(plan: Plan, hidden_size: int) -> Layout:
    V = ["idx"] + (["start"] if plan.start else [])
    E = [f"edge:{n}" for n in plan.edge_inputs]
    H = []
    for name, kind, _ in plan.updates:
        comp = plan.program.hidden[name]
        if kind == "flag":
            H.append(name)
            continue
        if name in plan.offset_pointers:
            H += [f"{name}:take+", f"{name}:take-"] + ([f"{name}:keep+", f"{name}:keep-"] if plan.keep else [])
            continue
        H.append(f"{name}:take")
        if isinstance(comp, Pointer):
            H.append(f"{name}:self")
        if plan.keep:
            H.append(f"{name}:keep")
    need = max(len(V), len(E), len(H), 4 if plan.incumbent else 1, 3)
    if hidden_size < need:
        raise ValueError(
            f"program {plan.program.algorithm!r} needs hidden size >= {need} "
            f"(hidden slots {H}, node features {V}), got {hidden_size}"
        )
    return Layout(tuple(V), tuple(E), tuple(H), hidden_size)


def _zeros_like_model(model: Model) -> Model:
    return jax.tree.map(lambda x: jnp.zeros_like(x) if eqx.is_inexact_array(x) else x, model)


def _set(model: eqx.Module, where, value: np.ndarray) -> eqx.Module:
    return eqx.tree_at(where, model, jnp.asarray(value, dtype=jnp.float32))


def compile_processor(plan: Plan, lay: Layout, model: Model, const: dict[str, float]) -> Model:
    """Stage 3: the GATv2 weights (constants ``const``). C = [V | H], so H slot j is column s + j."""
    s = lay.hidden_size
    M_p, M_s = const["M_POINTER"], const["M_SCALAR"]
    K, L, eps, tau = const["K"], const["L"], const["EPS"], const["TAU"]
    W_val, b_val = np.zeros((s, 2 * s)), np.zeros(s)
    W_skip, b_skip = np.zeros((s, 2 * s)), np.zeros(s)
    W_info = np.zeros((s, s))
    x = lay.v("idx")
    st = lay.v("start") if plan.start else None
    H = lambda name: s + lay.h(name)

    def msk_into(W, b, row, coeff):  # coeff·msk_j (flag + start; 1 without a flag)
        if plan.flag:
            W[row, H(plan.flag)] += coeff
            if st is not None:
                W[row, st] += coeff
        else:
            b[row] += coeff

    def value_into(W, row, comp, coeff=1.0):  # coeff·(value of component or idx)
        if comp == "idx":
            W[row, x] += coeff
            return
        for where, k, sign in lay.terms(comp):
            W[row, k if where == "V" else s + k] += coeff * sign

    def start_into(W, row, coeff):
        if st is not None:
            W[row, st] += coeff

    def keep_into(W, b, row, coeff):  # coeff·keep_i (the receiver's flag)
        if plan.keep:
            msk_into(W, b, row, coeff)

    for name, kind, detail in plan.updates:
        if kind == "flag":
            r = lay.h(name)  # R' = relu(Σα msk_j - start_i); start nodes hold it in V
            msk_into(W_val, b_val, r, 1.0)
            start_into(W_skip, r, -1.0)
            continue
        M = M_s if isinstance(plan.program.hidden[name], Scalar) else M_p
        if name in plan.offset_pointers:
            target = "idx" if kind == "idx" else detail[0]
            for sign in (1.0, -1.0):
                # take±: relu(±(x_i - target(other)) + M·(Σα msk_j - keep_i - start_i - 1))
                r = lay.h(f"{name}:take{'+' if sign > 0 else '-'}")
                value_into(W_val, r, target, -sign)
                W_skip[r, x] += sign
                msk_into(W_val, b_val, r, M)
                keep_into(W_skip, b_skip, r, -M)
                start_into(W_skip, r, -M)
                b_skip[r] += -M
                if plan.keep:
                    # keep±: relu(±(x_i - π_i) + M·(keep_i - start_i - 1))
                    r = lay.h(f"{name}:keep{'+' if sign > 0 else '-'}")
                    W_skip[r, x] += sign
                    value_into(W_skip, r, name, -sign)
                    keep_into(W_skip, b_skip, r, M)
                    start_into(W_skip, r, -M)
                    b_skip[r] += -M
            continue
        # take: relu(value(other) + M·(Σα msk_j - keep_i - start_i - 1))
        r = lay.h(f"{name}:take")
        if kind == "expr":
            for comp, c in plan.expr_other:
                value_into(W_val, r, comp, c)
            for e, c in plan.expr_edge:
                W_info[r, lay.e(f"edge:{e}")] += c
        elif kind == "idx":
            value_into(W_val, r, "idx")
        else:
            value_into(W_val, r, detail[0])
        msk_into(W_val, b_val, r, M)
        keep_into(W_skip, b_skip, r, -M)
        start_into(W_skip, r, -M)
        b_skip[r] += -M
        if isinstance(plan.program.hidden[name], Pointer):
            # self: relu(x_i + M·(start_i - Σα msk_j)): no candidate, or a start node
            r = lay.h(f"{name}:self")
            W_skip[r, x] += 1.0
            start_into(W_skip, r, M)
            msk_into(W_val, b_val, r, -M)
        if plan.keep:
            # keep: relu(value(self) + M·(keep_i - start_i - 1)); start nodes use self
            r = lay.h(f"{name}:keep")
            value_into(W_skip, r, name)
            keep_into(W_skip, b_skip, r, M)
            start_into(W_skip, r, -M)
            b_skip[r] += -M

    # Selection (eq. 7): feature 0 scores masked candidates by -expr - ε·x_j, unmasked
    # ones below -K; it stays <= 0, in leaky ReLU's linear part of slope LEAK.
    W_out, b_out = np.zeros((s, 2 * s)), np.zeros(s)
    W_in, b_in = np.zeros((s, 2 * s)), np.zeros(s)
    W_edge, b_edge = np.zeros((s, s)), np.zeros(s)
    omega = np.zeros((1, s))
    for comp, c in plan.expr_other:
        value_into(W_out, 0, comp, -c)
    for e, c in plan.expr_edge:
        W_edge[0, lay.e(f"edge:{e}")] = -c
    W_out[0, x] += -eps
    if plan.mask:
        msk_into(W_out, b_out, 0, K)
        b_out[0] += -K
    omega[0, 0] = L / LEAK
    if plan.incumbent:
        # features 1, 2: ±(x_j - π_i) - K·(1 - msk_i); lrelu(z) + lrelu(-z) = 0.99|z|
        # for flagged receivers, a constant (-0.02·K) otherwise.
        parent = next(n for n, k, _ in plan.updates if k == "idx")
        for f, sign in ((1, 1.0), (2, -1.0)):
            W_out[f, x] += sign
            value_into(W_in, f, parent, -sign)
            msk_into(W_in, b_in, f, K)
            b_in[f] += -K
            omega[0, f] = -L * tau / (1.0 - LEAK)
        # feature 3: the self pair (weight w = 0) loses P_SELF logits. For edges,
        # w >= 1/G_SELF makes 1 - G·w <= 0, and its leak -P·LEAK·(1 - G·w) is
        # cancelled by raising feature 0's weight coefficient by P·LEAK·G/L.
        P, G = const["P_SELF"], const["G_SELF"]
        w = lay.e(f"edge:{plan.expr_edge[0][0]}")
        W_edge[3, w] = -G
        b_edge[3] = 1.0
        omega[0, 3] = -P
        W_edge[0, w] += -P * LEAK * G / L
    proc = model.processor
    for field_, W, b in (("W_val", W_val, b_val), ("W_skip", W_skip, b_skip), ("W_out", W_out, b_out), ("W_in", W_in, b_in)):
        proc = _set(proc, lambda p, f=field_: getattr(p, f).weight, W)
        proc = _set(proc, lambda p, f=field_: getattr(p, f).bias, b)
    proc = _set(proc, lambda p: p.W_edge.weight, W_edge)
    proc = _set(proc, lambda p: p.W_edge.bias, b_edge)
    proc = _set(proc, lambda p: p.omega, omega)
    if plan.use_edge_info:
        proc = _set(proc, lambda p: p.W_info.weight, W_info)
    return eqx.tree_at(lambda m: m.processor, model, proc)


def compile_encoders(plan: Plan, lay: Layout, model: Model) -> Model:
    """Stage 4a: ids and start flags into V, the expr's edge inputs into E; every other
    encoder (hints included: the compiled model reads its own state) stays zero."""
    s = lay.hidden_size

    def unit(i):
        w = np.zeros((s, 1))
        w[i, 0] = 1.0
        return w

    model = _set(model, lambda m: m.encoders[plan.program.idx].W.weight, unit(lay.v("idx")))
    if plan.start:
        model = _set(model, lambda m: m.encoders[plan.start].W.weight, unit(lay.v("start")))
    for e in plan.edge_inputs:
        model = _set(model, lambda m, e=e: m.encoders[e].W.weight, unit(lay.e(f"edge:{e}")))
    return model


def compile_decoders(plan: Plan, lay: Layout, model: Model, const: dict[str, float]) -> Model:
    """Stage 4b: decoders (constants ``const``) read h_t = [V | H_prev | H_new]; new state
    starts at 2s."""
    s = lay.hidden_size
    new = lambda comp: [2 * s + j for j in lay.slots(comp)]
    G, c, B = const["G_FLAG"], const["C_POINTER"], const["B_POINTER"]

    def new_value(W, row, comp):  # the component's new value, read from h_t
        for where, k, sign in lay.terms(comp):
            W[row, k if where == "V" else 2 * s + k] += sign

    for probe, comp in plan.program.probes.items():
        kind = plan.program.hidden[comp]
        if isinstance(kind, Flag):
            W = np.zeros((1, 3 * s))
            W[0, new(comp)] = G
            if plan.start:
                W[0, lay.v("start")] = G
            model = _set(model, lambda m, p=probe: m.decoders[p].W.weight, W)
            model = _set(model, lambda m, p=probe: m.decoders[p].W.bias, np.array([-G / 2]))
        elif isinstance(kind, Scalar):
            W = np.zeros((1, 3 * s))
            new_value(W, 0, comp)
            model = _set(model, lambda m, p=probe: m.decoders[p].W.weight, W)
        else:
            # eq. 31 through eqs. 27-29: p1 = [π_i, π_i, -B], p2 = [x_j, -B, x_j],
            # max = [max(π_i, x_j), π_i, x_j], logit = -c·(2·max - π_i - x_j).
            W1, b1 = np.zeros((s, 3 * s)), np.zeros(s)
            W2, b2 = np.zeros((s, 3 * s)), np.zeros(s)
            new_value(W1, 0, comp)
            new_value(W1, 1, comp)
            b1[2] = -B
            W2[0, lay.v("idx")] = 1.0
            b2[1] = -B
            W2[2, lay.v("idx")] = 1.0
            W3 = np.zeros((1, s))
            W3[0, :3] = [-2 * c, c, c]
            for f, W, b in (("W1", W1, b1), ("W2", W2, b2)):
                model = _set(model, lambda m, p=probe, f=f: getattr(m.decoders[p], f).weight, W)
                model = _set(model, lambda m, p=probe, f=f: getattr(m.decoders[p], f).bias, b)
            model = _set(model, lambda m, p=probe: m.decoders[p].W3.weight, W3)
    return model


def compile_program(program: GraphProgram, hidden_size: int = 4, *, x64: bool = False) -> Model:
    """Compile ``program`` into an eqgat ``Model`` of hidden size ``hidden_size`` (the
    program's slots first, every other weight zero). Switches: ``use_ln=False`` (layer
    norm would rescale the named slots), ``use_edge_info`` when the update adds edge
    inputs, no pre-attention bias (the compiled models work at every graph size).
    ``x64`` uses the float64 tie-break constants (``CONSTANTS_X64``)."""
    plan = analyse(program)
    lay = layout(plan, hidden_size)
    const = constants(x64)
    model = Model(
        program.algorithm, hidden_size, 1, encode_hints=True, decode_hints=True,
        use_ln=False, use_edge_info=plan.use_edge_info, key=jax.random.key(0),
    )
    model = _zeros_like_model(model)
    model = compile_processor(plan, lay, model, const)
    model = compile_encoders(plan, lay, model)
    return compile_decoders(plan, lay, model, const)
