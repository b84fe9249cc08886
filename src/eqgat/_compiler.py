"""Neural compilation: a ``GraphProgram`` becomes every parameter of an eqgat ``Model``.

The compiler runs in stages, as tracr's does:

1. ``analyse``: check the program against what one GATv2 step can compute exactly and
   classify each component's update (a ``Plan``).
2. ``layout``: name the directions of the node features V, edge features E, hidden state
   H (tracr's basis directions, ``Direction``) and attention features ζ.
3. ``constants``: the scales, derived from the precision, the largest graph
   (``max_nodes``) and the program's value bound (``Constants``; ``describe`` says why).
4. ``compile_processor``: W_val, W_skip, W_info (values and state upkeep), W_out, W_in,
   W_edge and ω (the minimum selection).
5. ``compile_encoders`` / ``compile_decoders``: the probes in and out.

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

import math
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._gatv2 import ADJACENCY_BIAS, LEAKY_SLOPE
from ._config import ModelConfig
from ._model import Model
from ._spec import Location, Stage, Type, get_spec
from .lang import Flag, GraphProgram, Pointer, Scalar

#: A logit gap of MARGIN leaves the loser e^-40 ≈ 4e-18 of the weight: below half an
#: ulp of 1 in float32 and float64, so α is exactly one-hot and gates are exactly 0 or 1.
MARGIN = 40.0
#: Headroom on every derived tie-break over the rounding it must survive.
SAFETY = 1.25
#: Largest graph the default constants are derived for.
DEFAULT_MAX_NODES = 128


# --------------------------------------------------------------------------- stage 1


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
    adj: str | None  # incumbent: the edge mask input that tells neighbours from non-edges
    parent_hint: str | None  # incumbent: the hint that feeds the parent pointer back
    parent: str | None  # incumbent: the pointer component set to other.idx
    scalar_expr: bool  # expr reads a Scalar (values up to VALUE_BOUND) rather than ids

    @property
    def expr_is_idx(self) -> bool:
        """Selection by id alone: no two candidates tie, so no tie-break is needed."""
        return self.expr_other == (("idx", 1.0),) and not self.expr_edge


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
    if any(c < 0 for _, c in expr_other + expr_edge):
        _fail(program, f"expr must be a non-negative combination (it is an attention feature >= 0), got {sel.expr}")
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
    adj = parent_hint = parent = None
    if incumbent:
        kinds = {k for _, k, _ in updates}
        if "expr" not in kinds or "idx" not in kinds:
            _fail(program, "incumbent needs a Scalar set to expr and a Pointer set to other.idx (the parent)")
        parent = next(n for n, k, _ in updates if k == "idx")
        hints = [p for p, c in program.probes.items() if c == parent and spec.get(p) is not None and spec[p].stage == Stage.HINT]
        if not hints:
            _fail(program, f"incumbent needs the parent pointer {parent!r} decoded as a hint "
                           "(fed back, it tells each receiver which sender is its parent)")
        parent_hint = hints[0]
        masks = [p.name for p in spec.values() if p.stage == Stage.INPUT and p.location == Location.EDGE and p.type == Type.MASK]
        if not masks:
            _fail(program, "incumbent needs an edge mask input (adjacency) in the spec to tell neighbours from non-edges")
        adj = masks[0]
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
    scalar_expr = any(isinstance(hidden.get(n), Scalar) for n, _ in expr_other) or bool(expr_edge)
    return Plan(program, flag, start, mask, keep, incumbent, tuple(expr_other), tuple(expr_edge),
                tuple(updates), tuple(n for n, _ in expr_edge), use_edge_info, offsets,
                adj, parent_hint, parent, scalar_expr)


# --------------------------------------------------------------------------- stage 2


@dataclass(frozen=True)
class Direction:
    """A named direction of the hidden state: one slot of a component (tracr's
    ``BasisDirection``). ``role`` is the case the slot holds:

    - ``value``: a flag's only slot;
    - ``take`` / ``self`` / ``keep``: the value taken from the selected sender, the
      receiver's own id (pointers with no candidate), the kept value;
    - ``take+`` / ``take-`` / ``keep+`` / ``keep-``: an offset pointer ``x_i - π_i``,
      split by sign;
    - ``delta``: how much the component fell in the last step (not part of its value).
    """

    component: str
    role: str

    @property
    def is_value(self) -> bool:
        return self.role != "delta"

    @property
    def sign(self) -> float:
        """-1 for the ``+`` slot of an offset pointer (π = x - (+) + (-)), else +1."""
        return -1.0 if self.role.endswith("+") else 1.0

    @property
    def is_offset(self) -> bool:
        return self.role.endswith(("+", "-"))

    def __str__(self) -> str:
        return self.component if self.role == "value" else f"{self.component}:{self.role}"


@dataclass(frozen=True)
class Layout:
    """Stage 2: named directions of V, E, H and of the attention features ζ (index = slot)."""

    V: tuple[str, ...]
    E: tuple[str, ...]
    H: tuple[Direction, ...]
    Z: tuple[str, ...]
    hidden_size: int

    def v(self, name: str) -> int:
        return self.V.index(name)

    def e(self, name: str) -> int:
        return self.E.index(name)

    def h(self, component: str, role: str = "value") -> int:
        return self.H.index(Direction(component, role))

    def z(self, name: str) -> int:
        return self.Z.index(name)

    def slots(self, component: str) -> list[int]:
        """H slots whose sum (with signs, for offset pointers) is ``component``'s value."""
        return [i for i, d in enumerate(self.H) if d.component == component and d.is_value]

    def terms(self, component: str) -> list[tuple[str, int, float]]:
        """``component``'s value as a signed sum of ('V' | 'H', slot, sign): the sum of
        its slots, or for an offset pointer x - Σ(+ slots) + Σ(- slots)."""
        slots = self.slots(component)
        if any(self.H[k].is_offset for k in slots):
            return [("V", self.v("idx"), 1.0)] + [("H", k, self.H[k].sign) for k in slots]
        return [("H", k, 1.0) for k in slots]


def _directions(plan: Plan) -> tuple[list[str], list[str], list[Direction], list[str]]:
    V = ["idx"] + (["start"] if plan.start else [])
    E = [f"edge:{n}" for n in plan.edge_inputs]
    if plan.incumbent:
        E += [f"edge:{plan.adj}", "edge:parent"]
    H = []
    for name, kind, _ in plan.updates:
        comp = plan.program.hidden[name]
        D = lambda role, name=name: Direction(name, role)  # noqa: E731
        if kind == "flag":
            H.append(D("value"))
            continue
        if name in plan.offset_pointers:
            H += [D("take+"), D("take-")] + ([D("keep+"), D("keep-")] if plan.keep else [])
            continue
        H.append(D("take"))
        if kind == "expr" and plan.incumbent:
            H.append(D("delta"))
        if isinstance(comp, Pointer):
            H.append(D("self"))
        if plan.keep:
            H.append(D("keep"))
    Z = ["value"] + ([] if plan.expr_is_idx else ["id"])
    if plan.mask or plan.incumbent:
        Z.append("penalty")
    if plan.incumbent:
        Z += ["parent", "parent:leak", "parent:cancel"]
    return V, E, H, Z


def minimal_hidden_size(program: GraphProgram) -> int:
    """The smallest hidden size ``program`` compiles to (its largest group of named
    directions: node features, edge features, hidden slots or attention features)."""
    V, E, H, Z = _directions(analyse(program))
    return max(len(V), len(E), len(H), len(Z))


def layout(plan: Plan, hidden_size: int | None = None) -> Layout:
    """Stage 2: the named directions, at ``hidden_size`` (default: the minimal size)."""
    V, E, H, Z = _directions(plan)
    need = max(len(V), len(E), len(H), len(Z))
    hidden_size = need if hidden_size is None else hidden_size
    if hidden_size < need:
        raise ValueError(
            f"program {plan.program.algorithm!r} needs hidden size >= {need} "
            f"(hidden slots {[str(d) for d in H]}, node features {V}, edge features {E}, "
            f"attention features {Z}), got {hidden_size}"
        )
    return Layout(tuple(V), tuple(E), tuple(H), tuple(Z), hidden_size)


# --------------------------------------------------------------------------- stage 3

#: Upper bound (exclusive) on every scalar a program stores and every selected expression
#: (a power of two: float rounding of values below it is at most 2^-21 in float32).
VALUE_BOUND = 16.0


@dataclass(frozen=True)
class Constants:
    """The values the compiler writes for one setting; ``describe()`` gives the reasons.

    Selection quantities (``eps``, ``bonus``, ``rounding``, ``resolution``) are in value
    units (a logit is ``L`` times them).
    """

    max_nodes: int
    x64: bool
    value_bound: float  # V: values and selected expressions lie in [0, V)
    L: float  # logit scale
    eps: float  # id tie-break (0 when the expression is the id itself)
    K: float  # mask penalty
    Q: float  # non-edge penalty (incumbent programs)
    bonus: float  # parent bonus (incumbent programs)
    change_gain: float  # G of the parent-change detector (incumbent programs)
    rounding: float  # bound on float rounding between two competing logits
    resolution: float  # values closer than this may resolve by id or incumbency
    M_pointer: float = 2.0
    M_scalar: float = VALUE_BOUND
    C_pointer: float = 1e6
    B_pointer: float = 4.0
    G_flag: float = 100.0

    def describe(self) -> dict[str, tuple[float, str]]:
        """Every constant with the reason its value is safe (the ``CONSTANTS`` table)."""
        prec = "float64" if self.x64 else "float32"
        n = self.max_nodes
        return {
            "VALUE_BOUND": (self.value_bound, f"Values and selected expressions lie in [0, {self.value_bound:g}): a power of "
                            f"two, so their {prec} rounding is at most half an ulp of {self.value_bound / 2:g}."),
            "ROUNDING": (self.rounding, "Bound on the rounding between two competing logits, in value units: the "
                         "selection's value feature is exact for values exact in binary; the logit sum adds at "
                         "most three roundings of half an ulp of the largest value per logit."),
            "L": (self.L, "Logit scale (a power of two, so L·value is exact). "
                  + ("Keyed by ids: the span of the logits, L·(K + V + 1), stays below the adjacency bias "
                     f"{ADJACENCY_BIAS:g} (eq. 8), so non-edges lose." if not self.Q else
                     "Non-edges are excluded by the penalty feature's Q, so L is limited only by the precision: "
                     f"MARGIN/L = {MARGIN / self.L:.2g} of the resolution budget.")),
            "EPS": (self.eps, ("Selection by id alone: ids are distinct, no tie-break." if not self.eps else
                    f"Lowest-index tie-break ε·x_j. Exact ties differ by L·ε/{n} ≥ {self.L * self.eps / n:.3g} logits "
                    f"for ids 1/{n} apart, {SAFETY}·(ROUNDING + MARGIN/L)·{n}: the rounding cannot flip them and "
                    f"the loser keeps e^-{MARGIN:g}.")),
            "K": (self.K, "Mask penalty (V + 1): an unmasked sender scores below -L·K, every masked one above "
                  "-L·(V + ε + bonus)."),
            "Q": (self.Q, "Non-edge penalty 2·(K + V) (incumbent programs; ζ = Q·(1 - adj_ij)): every non-edge "
                  "loses to every neighbour and to the receiver itself, at any L."),
            "BONUS": (self.bonus, "Parent bonus (incumbent programs): ε + ROUNDING + MARGIN/L beats any id "
                      "difference, so an unchanged parent keeps a tie at the receiver's value."),
            "CHANGE_GAIN": (self.change_gain, "Gain G of the parent-change detector parent_ij - G·Δ_j: a parent "
                            "whose value fell by 1/G = RESOLUTION/2 or more loses its whole bonus."),
            "RESOLUTION": (self.resolution, f"Values closer than this ({prec}, graphs of at most {n} nodes) may "
                           "resolve by id or incumbency instead of by value: ε + BONUS + ROUNDING + MARGIN/L "
                           "(ε + ROUNDING + MARGIN/L without an incumbent). Exact ties always resolve as dm-clrs."),
            "MARGIN": (MARGIN, "Least logit gap sought between the selected sender and any other: the loser keeps "
                       "e^-40 ≈ 4e-18, below half an ulp of 1, so α is one-hot and gates are exactly 0 or 1."),
            "M_POINTER": (self.M_pointer, "Gate size for flag and pointer slots (values in [0, 1]): relu(v + M·(g - 1)) "
                          "is v at g = 1 and 0 at g = 0."),
            "M_SCALAR": (self.M_scalar, "Gate size for scalar slots (= VALUE_BOUND: relu(v - M) = 0 for every v < M). "
                         "As small as allowed: the gated value carries rounding of half an ulp of 2·M."),
            "C_POINTER": (self.C_pointer, f"Pointer decoder scale (eq. 31's c): ids 1/n apart give margins of c/n "
                          f"({self.C_pointer / n:.0f} at n = {n}): fed-back soft pointers are exactly one-hot."),
            "B_POINTER": (self.B_pointer, "Constant that takes a pointer-decoder feature out of its max (values in [0, 1])."),
            "G_FLAG": (self.G_flag, "Flag decoder gain: logits ±50, sigmoid within 2e-22 of 0 or 1."),
        }


def constants(plan: Plan, *, max_nodes: int = DEFAULT_MAX_NODES, x64: bool = False) -> Constants:
    """Stage 3: the constants for ``plan`` on graphs of at most ``max_nodes`` nodes, in
    float32 (or float64 with ``x64``). See the module docstring and ``Constants.describe``."""
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    V = VALUE_BOUND if plan.scalar_expr else 1.0
    bits = 53 if x64 else 24
    half_ulp = 2.0 ** (math.log2(V) - bits - 1)  # of values in [V/2, V)
    rounding = (6.0 if plan.incumbent else 16.0) * half_ulp
    K = V + 1.0
    Q = 2.0 * (K + V) if plan.incumbent else 0.0
    if plan.incumbent:
        L = 2.0 ** (46 if x64 else 30)
    else:  # the logit span L·(K + V + 1) must stay below the adjacency bias
        L = 2.0 ** math.floor(math.log2(ADJACENCY_BIAS / 2 / (K + V + 1.0)))
    eps = 0.0 if plan.expr_is_idx else SAFETY * max_nodes * (rounding + MARGIN / L)
    bonus = eps + rounding + MARGIN / L if plan.incumbent else 0.0
    resolution = eps + bonus + rounding + MARGIN / L
    return Constants(max_nodes, x64, V, L, eps, K, Q, bonus, 2.0 / resolution if plan.incumbent else 0.0,
                     rounding, resolution, M_scalar=V if plan.scalar_expr else VALUE_BOUND)


# --------------------------------------------------------------------------- stage 4


class _Weights:
    """The processor's weights as float64 NumPy buffers, written term by term.

    Columns of W_val/W_skip/W_out/W_in follow the model's C = [V | H] (eq. 4): node feature
    ``k`` is column k, hidden slot ``k`` column s + k; W_edge/W_info read E.
    """

    def __init__(self, plan: Plan, lay: Layout):
        s = lay.hidden_size
        self.plan, self.lay, self.s = plan, lay, s
        self.W = {k: np.zeros((s, 2 * s)) for k in ("W_val", "W_skip", "W_out", "W_in")}
        self.W["W_edge"] = np.zeros((s, s))
        self.W["W_info"] = np.zeros((s, s))
        self.b = {k: np.zeros(s) for k in ("W_val", "W_skip", "W_out", "W_in", "W_edge")}
        self.omega = np.zeros((1, s))

    def col(self, where: str, k: int) -> int:
        return k if where == "V" else self.s + k

    def value(self, W: str, row: int, comp: str, coeff: float = 1.0):
        """coeff·(the value of ``comp``, or of the id for ``idx``)."""
        if comp == "idx":
            self.W[W][row, self.lay.v("idx")] += coeff
            return
        for where, k, sign in self.lay.terms(comp):
            self.W[W][row, self.col(where, k)] += coeff * sign

    def msk(self, W: str, row: int, coeff: float):
        """coeff·msk (stored flag + start input; the constant 1 without a flag)."""
        if self.plan.flag:
            self.W[W][row, self.col("H", self.lay.h(self.plan.flag))] += coeff
            self.start(W, row, coeff)
        else:
            self.b[W][row] += coeff

    def start(self, W: str, row: int, coeff: float):
        if self.plan.start:
            self.W[W][row, self.lay.v("start")] += coeff

    def keep(self, W: str, row: int, coeff: float):
        """coeff·keep_i (the receiver's flag), for programs that keep flagged nodes."""
        if self.plan.keep:
            self.msk(W, row, coeff)

    def expr(self, row: int, coeff: float = 1.0):
        """coeff·c_ij in the values (the selected sender's part in W_val, edge part in W_info)."""
        for comp, c in self.plan.expr_other:
            self.value("W_val", row, comp, coeff * c)
        for e, c in self.plan.expr_edge:
            self.W["W_info"][row, self.lay.e(f"edge:{e}")] += coeff * c

    def gated(self, row: int, M: float):
        """+ M·(Σα msk_j - keep_i - start_i - 1): the value passes only when a masked
        candidate was selected, the receiver is not kept and not a start node."""
        self.msk("W_val", row, M)
        self.keep("W_skip", row, -M)
        self.start("W_skip", row, -M)
        self.b["W_skip"][row] += -M


def compile_processor(plan: Plan, lay: Layout, const: Constants) -> _Weights:
    """Stage 4: the GATv2 weights."""
    w = _Weights(plan, lay)
    x = lay.v("idx")
    hidden = plan.program.hidden
    for name, kind, detail in plan.updates:
        if kind == "flag":
            r = lay.h(name)  # R' = relu(Σα msk_j - start_i); start nodes hold it in V
            w.msk("W_val", r, 1.0)
            w.start("W_skip", r, -1.0)
            continue
        M = const.M_scalar if isinstance(hidden[name], Scalar) else const.M_pointer
        if name in plan.offset_pointers:
            target = "idx" if kind == "idx" else detail[0]
            for sign, tag in ((1.0, "+"), (-1.0, "-")):
                # take±: relu(±(x_i - target(other)) + M·(Σα msk_j - keep_i - start_i - 1))
                r = lay.h(name, "take" + tag)
                w.value("W_val", r, target, -sign)
                w.W["W_skip"][r, x] += sign
                w.gated(r, M)
                if plan.keep:
                    # keep±: relu(±(x_i - π_i) + M·(keep_i - start_i - 1))
                    r = lay.h(name, "keep" + tag)
                    w.W["W_skip"][r, x] += sign
                    w.value("W_skip", r, name, -sign)
                    w.keep("W_skip", r, M)
                    w.start("W_skip", r, -M)
                    w.b["W_skip"][r] += -M
            continue
        # take: relu(value(other) + M·(Σα msk_j - keep_i - start_i - 1))
        r = lay.h(name, "take")
        if kind == "expr":
            w.expr(r)
        else:
            w.value("W_val", r, "idx" if kind == "idx" else detail[0])
        w.gated(r, M)
        if kind == "expr" and plan.incumbent:
            # delta: relu(value_i - c_selected + M·(msk_i - 1)): how much a flagged node's
            # value fell in this step (0 for nodes reached now: they are nobody's parent)
            r = lay.h(name, "delta")
            w.value("W_skip", r, name)
            w.expr(r, -1.0)
            w.msk("W_skip", r, M)
            w.b["W_skip"][r] += -M
        if isinstance(hidden[name], Pointer):
            # self: relu(x_i + M·(start_i - Σα msk_j)): no candidate, or a start node
            r = lay.h(name, "self")
            w.W["W_skip"][r, x] += 1.0
            w.start("W_skip", r, M)
            w.msk("W_val", r, -M)
        if plan.keep:
            # keep: relu(value(self) + M·(keep_i - start_i - 1)); start nodes use self
            r = lay.h(name, "keep")
            w.value("W_skip", r, name)
            w.keep("W_skip", r, M)
            w.start("W_skip", r, -M)
            w.b["W_skip"][r] += -M

    # Selection (eqs. 5-7): one non-negative feature per quantity, a = Σ_k ω_k ζ_k.
    L = const.L
    z = lay.z("value")  # c_ij
    for comp, c in plan.expr_other:
        w.value("W_out", z, comp, c)
    for e, c in plan.expr_edge:
        w.W["W_edge"][z, lay.e(f"edge:{e}")] += c
    w.omega[0, z] = -L
    if "id" in lay.Z:  # x_j
        w.W["W_out"][lay.z("id"), x] = 1.0
        w.omega[0, lay.z("id")] = -L * const.eps
    if "penalty" in lay.Z:  # K·(1 - msk_j) + Q·(1 - adj_ij)
        z = lay.z("penalty")
        if plan.mask:
            w.msk("W_out", z, -const.K)
            w.b["W_out"][z] += const.K
        if plan.incumbent:
            w.W["W_edge"][z, lay.e(f"edge:{plan.adj}")] = -const.Q
            w.b["W_edge"][z] = const.Q
        w.omega[0, z] = -L
    if plan.incumbent:
        # parent bonus: P·σ(parent_ij - G·Δ_j) + slope·P·G·Δ_j - slope·P·parent_ij is
        # (1 - slope)·P for an unchanged parent and 0 (up to rounding) for every other sender
        P = L * const.bonus / (1.0 - LEAKY_SLOPE)
        G = const.change_gain
        parent, delta = lay.e("edge:parent"), w.col("H", lay.h(_expr_scalar(plan), "delta"))
        z = lay.z("parent")
        w.W["W_edge"][z, parent] = 1.0
        w.W["W_out"][z, delta] = -G
        w.omega[0, z] = P
        z = lay.z("parent:leak")
        w.W["W_out"][z, delta] = G
        w.omega[0, z] = LEAKY_SLOPE * P
        z = lay.z("parent:cancel")
        w.W["W_edge"][z, parent] = 1.0
        w.omega[0, z] = -LEAKY_SLOPE * P
    return w


def _expr_scalar(plan: Plan) -> str:
    return next(n for n, k, _ in plan.updates if k == "expr")


def _write(model: eqx.Module, where, value, dtype) -> eqx.Module:
    return eqx.tree_at(where, model, jnp.asarray(np.asarray(value), dtype=dtype))


def _write_processor(model: Model, w: _Weights, plan: Plan, dtype) -> Model:
    proc = model.processor
    for f in ("W_val", "W_skip", "W_out", "W_in", "W_edge"):
        proc = _write(proc, lambda p, f=f: getattr(p, f).weight, w.W[f], dtype)
        proc = _write(proc, lambda p, f=f: getattr(p, f).bias, w.b[f], dtype)
    proc = _write(proc, lambda p: p.omega, w.omega, dtype)
    if plan.use_edge_info:
        proc = _write(proc, lambda p: p.W_info.weight, w.W["W_info"], dtype)
    return eqx.tree_at(lambda m: m.processor, model, proc)


def compile_encoders(plan: Plan, lay: Layout, model: Model, dtype=jnp.float32) -> Model:
    """Stage 5a: ids and start flags into V, the expr's edge inputs into E; with an
    incumbent also the adjacency and the fed-back parent pointer (a one-hot edge feature).
    Every other encoder stays zero."""
    s = lay.hidden_size

    def unit(i):
        w = np.zeros((s, 1))
        w[i, 0] = 1.0
        return w

    model = _write(model, lambda m: m.encoders[plan.program.idx].W.weight, unit(lay.v("idx")), dtype)
    if plan.start:
        model = _write(model, lambda m: m.encoders[plan.start].W.weight, unit(lay.v("start")), dtype)
    for e in plan.edge_inputs:
        model = _write(model, lambda m, e=e: m.encoders[e].W.weight, unit(lay.e(f"edge:{e}")), dtype)
    if plan.incumbent:
        model = _write(model, lambda m: m.encoders[plan.adj].W.weight, unit(lay.e(f"edge:{plan.adj}")), dtype)
        model = _write(model, lambda m: m.encoders[plan.parent_hint].W.weight, unit(lay.e("edge:parent")), dtype)
    return model


def compile_decoders(plan: Plan, lay: Layout, model: Model, const: Constants, dtype=jnp.float32) -> Model:
    """Stage 5b: decoders read h_t = [V | H_prev | H_new]; the new state starts at 2s."""
    s = lay.hidden_size
    new = lambda comp: [2 * s + j for j in lay.slots(comp)]  # noqa: E731
    G, c, B = const.G_flag, const.C_pointer, const.B_pointer

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
            model = _write(model, lambda m, p=probe: m.decoders[p].W.weight, W, dtype)
            model = _write(model, lambda m, p=probe: m.decoders[p].W.bias, np.array([-G / 2]), dtype)
        elif isinstance(kind, Scalar):
            W = np.zeros((1, 3 * s))
            new_value(W, 0, comp)
            model = _write(model, lambda m, p=probe: m.decoders[p].W.weight, W, dtype)
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
                model = _write(model, lambda m, p=probe, f=f: getattr(m.decoders[p], f).weight, W, dtype)
                model = _write(model, lambda m, p=probe, f=f: getattr(m.decoders[p], f).bias, b, dtype)
            model = _write(model, lambda m, p=probe: m.decoders[p].W3.weight, W3, dtype)
    return model


def _zeros_like(skeleton: Model, dtype) -> Model:
    """``skeleton`` (a model of shapes, from ``eqx.filter_eval_shape``) with zero weights."""
    return jax.tree.map(lambda x: jnp.zeros(x.shape, dtype) if isinstance(x, jax.ShapeDtypeStruct) else x, skeleton)


@dataclass(frozen=True)
class Compiled:
    """What the stages produced: the plan, the layout and the constants."""

    plan: Plan
    layout: Layout
    constants: Constants


def compile_stages(program: GraphProgram, hidden_size: int | None = None, *,
                   max_nodes: int = DEFAULT_MAX_NODES, x64: bool = False) -> Compiled:
    """Stages 1-3 of ``compile_program`` (no weights): what ``show`` and ``verify`` read."""
    plan = analyse(program)
    return Compiled(plan, layout(plan, hidden_size), constants(plan, max_nodes=max_nodes, x64=x64))


def compile_program(program: GraphProgram, hidden_size: int | None = None, *,
                    max_nodes: int = DEFAULT_MAX_NODES, x64: bool = False) -> Model:
    """Compile ``program`` into an eqgat ``Model`` of hidden size ``hidden_size`` (default:
    the program's minimal size; the program's slots first, every other weight zero),
    exact on graphs of at most ``max_nodes`` nodes. Switches: ``use_ln=False`` (layer norm
    would rescale the named slots), ``use_edge_info`` when the update adds edge inputs, no
    pre-attention bias. ``x64`` writes float64 weights with float64's finer constants
    (needs ``jax_enable_x64``)."""
    if x64 and not jax.config.jax_enable_x64:
        raise ValueError("compile_program(x64=True) needs jax_enable_x64 (jax.config.update('jax_enable_x64', True))")
    stages = compile_stages(program, hidden_size, max_nodes=max_nodes, x64=x64)
    plan, lay, const = stages.plan, stages.layout, stages.constants
    dtype = jnp.float64 if x64 else jnp.float32
    # the architecture's shapes only (no random weights), then every weight from zero
    config = ModelConfig(program.algorithm, lay.hidden_size, 1, use_ln=False, use_edge_info=plan.use_edge_info)
    skeleton = eqx.filter_eval_shape(lambda: Model(config, key=jax.random.key(0)))
    model = _zeros_like(skeleton, dtype)
    model = _write_processor(model, compile_processor(plan, lay, const), plan, dtype)
    model = compile_encoders(plan, lay, model, dtype)
    return compile_decoders(plan, lay, model, const, dtype)
