"""Stage 4: the GATv2 processor's weights (values, state upkeep and the minimum selection)."""

from ..nn import LEAKY_SLOPE
from ..lang import Pointer, Scalar
from ._analyse import Plan
from ._constants import Constants
from ._layout import Layout
from ._weights import Weights


class _Weights(Weights):
    """The shared buffer (``Weights``) with the terms a graph program writes: values of
    components, the mask, the start and keep flags and the selected expression."""

    def __init__(self, plan: Plan, lay: Layout):
        super().__init__(lay)
        self.plan = plan

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


def compile_processor(plan: Plan, lay: Layout, const: Constants, *, select: bool = True) -> _Weights:
    """Stage 4: the GATv2 weights (``select=False``: the values and state upkeep only)."""
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

    if select:
        _select(w, plan, lay, const)
    return w


def _select(w: _Weights, plan: Plan, lay: Layout, const: Constants) -> None:
    """Selection (eqs. 5-7): one non-negative feature per quantity, a = Σ_k ω_k ζ_k."""
    L = const.L
    minimum_features(w, plan, lay, const)
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


def minimum_features(w: _Weights, plan: Plan, lay: Layout, const: Constants) -> None:
    """The minimum selection's features, shared by both mechanisms: ``value`` c_ij (ω = -L),
    ``id`` x_j (ω = -L·ε) and ``penalty`` K·(1 - msk_j) + Q·(1 - adj_ij) (ω = -L)."""
    L, x = const.L, lay.v("idx")
    z = lay.z("value")  # c_ij
    for comp, c in plan.expr_other:
        w.value("W_out", z, comp, c)
    for e, c in plan.expr_edge:
        w.W["W_edge"][z, lay.e(f"edge:{e}")] += c
    w.omega[0, z] = -L
    if "id" in lay.Z:  # x_j
        w.W["W_out"][lay.z("id"), x] = 1.0
        w.omega[0, lay.z("id")] = -L * const.eps
    if "penalty" in lay.Z:
        z = lay.z("penalty")
        if plan.mask:
            w.msk("W_out", z, -const.K)
            w.b["W_out"][z] += const.K
        if plan.incumbent:
            w.W["W_edge"][z, lay.e(f"edge:{plan.adj}")] = -const.Q
            w.b["W_edge"][z] += const.Q
        w.omega[0, z] = -L


def _expr_scalar(plan: Plan) -> str:
    return next(n for n, k, _ in plan.updates if k == "expr")
