"""Stage 4 for the paper's mechanism (appendix B, listings 1-2): a node with nothing to
update attends to *itself*, through the pre-attention bias B = k·I, and keeps its state.

Selection. The features of the general mechanism (``value``, ``id``, ``penalty``: one
non-negative feature per quantity, ω = -L, -L·ε, -L) plus:

- ``self``: zero weights, so ζ = B_ij: k on the diagonal, 0 elsewhere. B is added to every
  feature (eq. 14), so the diagonal of every feature moves by k; ω_self is set so that the
  receiver's own logit is its expression's plus exactly L·SELF_BONUS, whatever that shift.
- ``selfloop:g`` = e_ij - k and ``selfloop:h`` = k - e_ij (e: the expression's edge part,
  below k): off the diagonal g is negative, so σ leaks slope·g, and ω_h = slope·ω_g cancels
  it exactly; on the diagonal (+k) both are non-negative and together add L·e_ii back. A
  self-loop's weight thus drops out of the receiver's own score (dm-clrs' samplers draw
  weighted self-loops, which never improve a distance).

So a kept receiver (keep programs: flagged; incumbent programs: no candidate strictly
better than its current value) selects itself, an unreached one with a masked neighbour
selects the best of them, and one with none selects itself.

Values. Keep programs use the general slots unchanged: whoever a kept receiver attends
to, its gates pass only its kept slots. Incumbent programs keep by self-selection:

- the scalar: ``take`` (newly reached: the selected expression) + ``keep`` (visited: d_i)
  - ``fall`` (relu(d_i - c_selected)): min(d_i, c_selected), which is d_i when the
  receiver selected itself (c_ii = d_i + a self-loop's weight >= d_i);
- the parent pointer: ``take`` and ``self`` as in the general mechanism for unreached and
  start nodes, and for visited receivers five slots in z = x_selected - x_i (0 exactly when
  the receiver selected itself, |z| >= 1/N otherwise, M = M_SELECT >= 2N):
  relu(x_sel) - relu(M z + x_sel) - relu(M z - x_sel) + relu(M z + π_i) + relu(M z - π_i),
  which is π_i at z = 0 and x_sel elsewhere (the terms in M z cancel in the sum).

Every gate is ``+ M·(g - 1)`` with g exactly 0 or 1, as in the general mechanism.
"""

import numpy as np

from ..nn import LEAKY_SLOPE
from ._analyse import Plan
from ._constants import Constants
from ._layout import Layout
from ._processor import _Weights, compile_processor, minimum_features


def compile_processor_paper(plan: Plan, lay: Layout, const: Constants) -> tuple[_Weights, np.ndarray]:
    """Stage 4, the paper's mechanism: the processor's weights and B (N × N)."""
    if plan.incumbent:
        w = _Weights(plan, lay)
        _incumbent_values(w, plan, lay, const)
    else:  # keep programs: the general values; their gates ignore whom a kept receiver selects
        w = compile_processor(plan, lay, const, select=False)
    w.W["W_skip"][lay.h("idx", "self"), lay.v("idx")] = 1.0  # the id in H (listing 2: idx = self.idx)
    _select(w, plan, lay, const)
    return w, const.T_self * np.eye(const.max_nodes)


def _incumbent_values(w: _Weights, plan: Plan, lay: Layout, const: Constants) -> None:
    x = lay.v("idx")
    for name, kind, _ in plan.updates:
        if kind == "flag":  # R' = relu(Σα msk_j - start_i); start nodes hold it in V
            r = lay.h(name)
            w.msk("W_val", r, 1.0)
            w.start("W_skip", r, -1.0)
        elif kind == "expr":
            M = const.M_scalar
            r = lay.h(name, "take")  # relu(c_sel + M·(Σα msk_j - msk_i - 1)): newly reached
            w.expr(r)
            w.msk("W_val", r, M)
            w.msk("W_skip", r, -M)
            w.b["W_skip"][r] -= M
            r = lay.h(name, "keep")  # relu(d_i + M·(msk_i - start_i - 1)): visited
            w.value("W_skip", r, name)
            w.msk("W_skip", r, M)
            w.start("W_skip", r, -M)
            w.b["W_skip"][r] -= M
            r = lay.h(name, "fall")  # relu(d_i - c_sel + M·(msk_i - 1)), subtracted
            w.value("W_skip", r, name)
            w.expr(r, -1.0)
            w.msk("W_skip", r, M)
            w.b["W_skip"][r] -= M
        else:  # the parent pointer (kind "idx")
            M = const.M_pointer
            r = lay.h(name, "take")  # relu(x_sel + M·(Σα msk_j - msk_i - 1))
            w.value("W_val", r, "idx")
            w.msk("W_val", r, M)
            w.msk("W_skip", r, -M)
            w.b["W_skip"][r] -= M
            r = lay.h(name, "self")  # relu(x_i + M·(start_i - Σα msk_j))
            w.W["W_skip"][r, x] += 1.0
            w.start("W_skip", r, M)
            w.msk("W_val", r, -M)
            Ms, Mk = const.M_select, const.M_select + 4.0  # detector gain; gate that kills the rest
            for role, z_coeff, own, sel in (("keep:x", 0.0, 0.0, 1.0), ("keep:x+z", Ms, 0.0, 1.0),
                                            ("keep:x-z", Ms, 0.0, -1.0), ("keep:pi+z", Ms, 1.0, 0.0),
                                            ("keep:pi-z", Ms, -1.0, 0.0)):
                # relu(z_coeff·(x_sel - x_i) + sel·x_sel + own·π_i + Mk·(msk_i - start_i - 1))
                r = lay.h(name, role)
                w.value("W_val", r, "idx", z_coeff + sel)
                w.W["W_skip"][r, x] -= z_coeff
                if own:
                    w.value("W_skip", r, name, own)
                w.msk("W_skip", r, Mk)
                w.start("W_skip", r, -Mk)
                w.b["W_skip"][r] -= Mk


def _select(w: _Weights, plan: Plan, lay: Layout, const: Constants) -> None:
    """Selection (eqs. 5-7, 14) with the self default; see the module docstring."""
    L, T = const.L, const.T_self
    minimum_features(w, plan, lay, const)
    shift = T * sum(w.omega[0, lay.z(k)] for k in ("value", "id", "penalty") if k in lay.Z)  # B on the diagonal
    if plan.expr_edge:
        g, h = lay.z("selfloop:g"), lay.z("selfloop:h")
        for e, c in plan.expr_edge:
            w.W["W_edge"][g, lay.e(f"edge:{e}")] += c
            w.W["W_edge"][h, lay.e(f"edge:{e}")] -= c
        w.b["W_edge"][g] -= T
        w.b["W_edge"][h] += T
        w.omega[0, g] = L / (1.0 - LEAKY_SLOPE)
        w.omega[0, h] = LEAKY_SLOPE * L / (1.0 - LEAKY_SLOPE)
        shift += 2.0 * T * LEAKY_SLOPE * L / (1.0 - LEAKY_SLOPE)  # g + h on the diagonal: L·e_ii + this
    w.omega[0, lay.z("self")] = (L * const.self_bonus - shift) / T

