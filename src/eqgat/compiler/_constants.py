"""Stage 3: the compiler's constants, derived from the precision, the largest graph
(``max_nodes``) and the program's value bound, each with the reason its value is safe."""

import math
from dataclasses import dataclass

from .._gatv2 import ADJACENCY_BIAS
from ._analyse import Plan

#: A logit gap of MARGIN leaves the loser e^-40 ≈ 4e-18 of the weight: below half an
#: ulp of 1 in float32 and float64, so α is exactly one-hot and gates are exactly 0 or 1.
MARGIN = 40.0
#: Headroom on every derived tie-break over the rounding it must survive.
SAFETY = 1.25
#: Largest graph the default constants are derived for.
DEFAULT_MAX_NODES = 128

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
