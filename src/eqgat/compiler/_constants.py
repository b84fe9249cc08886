"""Stage 3: the compiler's constants, derived from the precision, the largest graph
(``max_nodes``) and the program's value bound, each with the reason its value is safe.

Two settings of the selection and decoder scales (the logit scale ``L``, the pointer
decoder's ``c`` and the flag decoder's gain ``G``):

- the default (``scale=None``): the largest ``L`` the bounds allow, ``c = 1e6``, ``G = 100``
  (the finest resolution; weights up to ~1e9);
- ``scale=S`` (S >= 1): S times the *smallest* values the bounds allow for ``max_nodes``
  (``Constants.L_min``, ``C_MIN_PER_NODE``·n, ``G_MIN``), so that a researcher can set the
  size of the compiled minimum and see what depends on it. Every other constant is in
  value units and does not change with S.

The paper's mechanism (``mechanism="paper"``, ``_paper.py``) always takes the second
setting (S = 1 by default), with its own K, self bonus, B = k·I and detector gain.
"""

import math
from dataclasses import dataclass

from ..nn import ADJACENCY_BIAS
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


def _on_id_grid(plan: Plan) -> float | None:
    """The spacing of the selected expression's distinct values when they lie on the id
    grid (ids, pointers and labels are multiples of 1/n; one common coefficient c makes the
    spacing c/n), as a multiple of 1/n; None for scalar values (no grid)."""
    if plan.scalar_expr or not plan.expr_other:
        return None
    coeffs = {c for _, c in plan.expr_other}
    return coeffs.pop() if len(coeffs) == 1 else None


def _resolution_factor(plan: Plan, max_nodes: int) -> float:
    """κ with resolution = κ·(ROUNDING + MARGIN/L): ε, the parent bonus and the rounding
    each scale with u = ROUNDING + MARGIN/L (see ``constants``)."""
    eps_factor = 0.0 if plan.expr_is_idx else SAFETY * max_nodes
    return (2.0 if plan.incumbent else 1.0) * (eps_factor + 1.0)


def _pow2_ceil(x: float) -> float:
    return 2.0 ** math.ceil(math.log2(x))


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
    scale: float | None = None  # None: the largest L and the default c, G; else S x the smallest
    L_min: float = 0.0  # the smallest logit scale the bounds allow (scale = 1)
    L_max: float = 0.0  # the largest
    mechanism: str = "general"
    self_bonus: float = 0.0  # paper: the receiver's own score bonus (value units; B = k·I)
    T_self: float = 0.0  # paper: k of B = k·I (exceeds every edge weight the expr reads)
    M_select: float = 0.0  # paper: gain of the self-selection detector M·(x_selected - x_i)

    def describe(self) -> dict[str, tuple[float, str]]:
        """Every constant with the reason its value is safe (the ``CONSTANTS`` table)."""
        prec = "float64" if self.x64 else "float32"
        n = self.max_nodes
        scaled = "the default: the largest L the bounds allow" if self.scale is None else \
            f"--scale {self.scale:g} x the smallest, L_min = {self.L_min:g}"
        return {
            "SCALE": (self.scale or 0.0, "0 = the default constants (largest L, c = 1e6, G = 100); S >= 1 = S times "
                      f"the smallest selection and decoder constants the bounds allow for {n} nodes: L_min = "
                      f"{self.L_min:g}, C_MIN = {C_MIN_PER_NODE:g}·n = {C_MIN_PER_NODE * n:g}, G_MIN = {G_MIN:g}. "
                      "L_min: on the id grid (values 1/n apart), the least L with SAFETY·RESOLUTION <= 1/n; "
                      "for scalar values, the least with MARGIN/L <= ROUNDING (the margin costs no more "
                      "resolution than float rounding). Powers of two."),
            "VALUE_BOUND": (self.value_bound, f"Values and selected expressions lie in [0, {self.value_bound:g}): a power of "
                            f"two, so their {prec} rounding is at most half an ulp of {self.value_bound / 2:g}."),
            "ROUNDING": (self.rounding, "Bound on the rounding between two competing logits, in value units: the "
                         "selection's value feature is exact for values exact in binary; the logit sum adds at "
                         "most three roundings of half an ulp of the largest value per logit."),
            "L": (self.L, f"Logit scale ({scaled}; a power of two unless S is not, then ROUNDING counts L·value's "
                  f"rounding too; bounds [{self.L_min:g}, {self.L_max:g}]). "
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
                          f"({self.C_pointer / n:.0f} at n = {n}; at least SAFETY·MARGIN = {SAFETY * MARGIN:g}): fed-back "
                          "soft pointers are exactly one-hot."),
            "B_POINTER": (self.B_pointer, "Constant that takes a pointer-decoder feature out of its max (values in [0, 1])."),
            **({} if self.mechanism != "paper" else {
                "SELF_BONUS": (self.self_bonus, "Paper mechanism: the receiver's own logit gets L·SELF_BONUS over its "
                               "expression (B = k·I, through the self feature). Keep programs: more than any id "
                               "difference, so a kept receiver attends to itself, and K exceeds it by V, so an "
                               "unreached receiver attends to a masked sender when it has one. Incumbent programs: "
                               "ε + ROUNDING + MARGIN/L, so an exact tie with the current value keeps it (dm-clrs' "
                               "strict <) and any improvement beyond the resolution moves."),
                "B_SELF": (self.T_self, "Paper mechanism: k of B = k·I; it exceeds every edge weight the expression "
                           "reads (< VALUE_BOUND), so the self-loop features see a non-negative ζ only on the "
                           "diagonal and a self-loop's weight drops out of the receiver's own score."),
                "M_SELECT": (self.M_select, "Paper mechanism: gain of the detector M·(x_selected - x_i), 0 exactly when "
                             "a receiver selected itself and at least 1 in size otherwise for ids at least 1/M apart "
                             "(dm-clrs' i/n grid, or random ids that far apart), which switches a kept pointer between "
                             "its own value and the selected id. Its terms cancel to about 2 ulp(M), below half of 1/M: "
                             "M² <= 2^(bits - 4). Receivers with a neighbour's id closer than 1/M are near-ties."),
            }),
            "G_FLAG": (self.G_flag, f"Flag decoder gain: logits ±{self.G_flag / 2:g}, sigmoid within "
                       f"e^-{self.G_flag / 2:g} of 0 or 1 (at least G_MIN = 2·SAFETY·MARGIN = {G_MIN:g})."),
        }


#: The smallest pointer-decoder scale per node: c/n >= SAFETY·MARGIN.
C_MIN_PER_NODE = SAFETY * MARGIN
#: The smallest flag-decoder gain: logits ±G/2 with G/2 >= SAFETY·MARGIN.
G_MIN = 2 * SAFETY * MARGIN


def constants(plan: Plan, *, max_nodes: int = DEFAULT_MAX_NODES, x64: bool = False,
              scale: int | float | None = None, mechanism: str = "general") -> Constants:
    """Stage 3: the constants for ``plan`` on graphs of at most ``max_nodes`` nodes, in
    float32 (or float64 with ``x64``); ``scale`` S >= 1 sets the selection and decoder
    scales to S times the smallest the bounds allow (module docstring). The paper's
    mechanism (``mechanism="paper"``, graphs of exactly ``max_nodes`` nodes) always uses
    the smallest constants times S (default 1), with c = 1e3 as in eq. 31 unless
    exactness needs more. See ``Constants.describe`` for every reason."""
    paper = mechanism == "paper"
    if paper and scale is None:
        scale = 1
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    if scale is not None and not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale >= 1):
        raise ValueError(f"scale must be a number >= 1 (a multiple of the smallest constants), got {scale!r}")
    V = VALUE_BOUND if plan.scalar_expr else 1.0
    bits = 53 if x64 else 24
    half_ulp = 2.0 ** (math.log2(V) - bits - 1)  # of values in [V/2, V)
    terms = (6.0 if plan.incumbent else 16.0) + (6.0 if paper else 0.0)  # paper: the self features' sums
    if scale is not None and math.log2(scale) != int(math.log2(scale)):
        terms += 2.0  # L·value is rounded too when L is not a power of two
    rounding = terms * half_ulp
    K = V + 1.0
    if paper and not plan.incumbent:  # the self bonus exceeds any id difference; K exceeds it by V
        K = 2.0 * V + 2.0
    Q = 2.0 * (K + V) if plan.incumbent else 0.0
    if plan.incumbent:
        L_max = 2.0 ** (46 if x64 else 30)
    else:  # the logit span L·(K + V + 1) (paper: + the self bonus < V + 1) must stay below the adjacency bias
        L_max = 2.0 ** math.floor(math.log2(ADJACENCY_BIAS / 2 / (K + V + 1.0 + (V + 1.0 if paper else 0.0))))
    kappa = _resolution_factor(plan, max_nodes)
    if (grid := _on_id_grid(plan)) is not None:
        room = grid / (SAFETY * max_nodes * kappa) - rounding  # what MARGIN/L may use
        if room <= 0:
            raise ValueError(f"{'float64' if x64 else 'float32'} cannot separate values 1/{max_nodes} apart for "
                             f"this program; lower max_nodes or use x64")
        L_min = _pow2_ceil(MARGIN / room)
    else:
        L_min = _pow2_ceil(MARGIN / rounding)
    L_min = min(L_min, L_max)
    if scale is None:
        L, C, G = L_max, 1e6, 100.0
    else:
        L, C, G = scale * L_min, scale * C_MIN_PER_NODE * max_nodes, scale * G_MIN
        if paper:
            C = max(1e3, C)
        if L > L_max:
            why = "the precision" if plan.incumbent else f"the adjacency bias {ADJACENCY_BIAS:g} (eq. 8)"
            raise ValueError(f"scale {scale:g} puts the logit scale L = {L:g} above the largest {L_max:g} "
                             f"that {why} allows; the largest scale for this program at {max_nodes} nodes is "
                             f"{L_max / L_min:g}")
    eps = 0.0 if plan.expr_is_idx else SAFETY * max_nodes * (rounding + MARGIN / L)
    bonus = eps + rounding + MARGIN / L if plan.incumbent else 0.0
    resolution = eps + bonus + rounding + MARGIN / L
    self_bonus = T = M_select = 0.0
    if paper:
        T = VALUE_BOUND
        # the detector's terms cancel to within ~2 ulp(M), below half the id gap 1/M it
        # resolves when M² <= 2^(bits - 4): 1024 in float32; ids on the grid need M >= 2N
        M_select = max(2.0 ** ((bits - 4) // 2), 2.0 * max_nodes)
        # keep programs: beat every masked sender (id differences < V, tie-break < ε) by a margin
        self_bonus = bonus if plan.incumbent else V + eps + SAFETY * (rounding + MARGIN / L)
    return Constants(max_nodes, x64, V, L, eps, K, Q, bonus, 2.0 / resolution if plan.incumbent else 0.0,
                     rounding, resolution, M_scalar=V if plan.scalar_expr else VALUE_BOUND, C_pointer=C, G_flag=G,
                     scale=None if scale is None else float(scale), L_min=L_min, L_max=L_max, mechanism=mechanism,
                     self_bonus=self_bonus, T_self=T, M_select=M_select)
