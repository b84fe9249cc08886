"""Affine forms with a float32 error bound: the arithmetic the certificate reasons in.

A local configuration leaves some quantities symbolic (a node's id, a distance, an edge
weight), each a *variable* with a box domain (``Domain``). Every value the model computes
on that configuration is a ``Q``: an affine ``Form`` over the variables (its exact value
in real arithmetic) and ``err``, a bound on how far the model's float32 result can be from
it, for every assignment in the domain.

**Error model** (stated in the certificate). Every float32 operation the model performs
(a product, a sum inside an einsum, a bias add) rounds to nearest, in any order of
summation XLA chooses, with no reassociation across separate operations; ``exp`` is
accurate to 4 ulp and underflows to 0. Then:

- a product ``c·q`` is exact when ``c`` is a power of two, or when ``q`` is exact and both
  lie on binary grids whose product fits 24 bits; otherwise it rounds by at most half an
  ulp of its largest magnitude;
- a sum of K non-zero terms (in any order: K - 1 additions) rounds by at most
  (K - 1)·halfulp(S), S the largest possible sum of the terms' magnitudes; it is exact
  when every term is exact on a common grid g and S < 2^24·g (every partial sum is then a
  float32 number);
- the attention sum Σ_j α_ij ν_j with α_w = 1 (proved from the logit margins) equals the
  winner's ν_w up to twice the losers' mass times their largest |ν|, and exactly ν_w when
  ν_w is exact on a grid g, never inside (-g, g), and that leak is below g·2^-26 (each
  partial sum holding ν_w rounds back to it).

Every bound is a maximum over the whole box, so it holds for every configuration the box
covers.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import no_type_check  # hot pure-Python loops: no per-call checks (package docstring)

#: float32 unit roundoff.
U = 2.0 ** -24
#: float32 significand bits.
BITS = 24


@no_type_check
def halfulp(x: float) -> float:
    """Half an ulp of the largest float32 of magnitude at most ``x`` (a bound on the
    rounding of any result of magnitude at most ``x``)."""
    x = abs(float(x))
    if x == 0.0 or not math.isfinite(x):
        return 0.0 if x == 0.0 else math.inf
    _, e = math.frexp(x)  # x = m·2^e, m in [0.5, 1)
    return 2.0 ** (max(e, -125) - 1 - BITS)


@no_type_check
def grid_of(c: float) -> float:
    """The binary grid a float32 constant lies on: its lowest set bit (inf for 0)."""
    c = abs(float(c))
    if c == 0.0:
        return math.inf
    m, e = math.frexp(c)
    mant = int(m * 2.0 ** 53)
    tz = (mant & -mant).bit_length() - 1
    return 2.0 ** (e - 53 + tz)


@no_type_check
def is_pow2(c: float) -> bool:
    c = abs(float(c))
    return c != 0.0 and math.frexp(c)[0] == 0.5


@no_type_check
@dataclass(frozen=True)
class Var:
    """A variable's box: [lo, hi], and the binary grid its values lie on (None: any float32)."""

    lo: float
    hi: float
    grid: float | None = None


@no_type_check
class Domain(dict):
    """Variable name -> ``Var``."""

    def declare(self, name: str, lo: float, hi: float, grid: float | None = None) -> str:
        self[name] = Var(float(lo), float(hi), grid)
        return name

    def at_most(self, form: "Form", bound: float) -> bool:
        """Shrink the box so that it keeps only assignments with ``form <= bound`` can
        reach (one pass of interval propagation: sound, maybe not tight); False when no
        assignment of the box satisfies it."""
        lo, _, _, _ = form.bounds(self)
        if lo > bound:
            return False
        for k, c in form.coef.items():
            v = self[k]
            rest = lo - min(c * v.lo, c * v.hi)  # the least of the other terms
            if c > 0:
                self[k] = Var(v.lo, min(v.hi, (bound - rest) / c), v.grid)
            else:
                self[k] = Var(max(v.lo, (bound - rest) / c), v.hi, v.grid)
        return True


@no_type_check
@dataclass(frozen=True)
class Form:
    """``const + Σ coef[v]·v``, exact (float64 sums of float32 products)."""

    const: float = 0.0
    coef: Mapping[str, float] = field(default_factory=dict)

    @staticmethod
    def var(name: str, c: float = 1.0) -> "Form":
        return Form(0.0, {name: float(c)})

    @staticmethod
    def of(x: "Form | float") -> "Form":
        return x if isinstance(x, Form) else Form(float(x))

    def __add__(self, other) -> "Form":
        other = Form.of(other)
        coef = dict(self.coef)
        for k, v in other.coef.items():
            coef[k] = coef.get(k, 0.0) + v
        return Form(self.const + other.const, {k: v for k, v in coef.items() if v != 0.0})

    __radd__ = __add__

    def __neg__(self) -> "Form":
        return self * -1.0

    def __sub__(self, other) -> "Form":
        return self + (-Form.of(other))

    def __rsub__(self, other) -> "Form":
        return Form.of(other) - self

    def __mul__(self, c: float) -> "Form":
        c = float(c)
        if c == 0.0:
            return Form(0.0)
        return Form(self.const * c, {k: v * c for k, v in self.coef.items()})

    __rmul__ = __mul__

    @property
    def is_zero(self) -> bool:
        return self.const == 0.0 and not self.coef

    def substitute(self, name: str, value: "Form") -> "Form":
        """This form with variable ``name`` replaced by ``value``."""
        if name not in self.coef:
            return self
        c = self.coef[name]
        rest = Form(self.const, {k: v for k, v in self.coef.items() if k != name})
        return rest + Form.of(value) * c

    def bounds(self, dom: Domain) -> tuple[float, float, dict, dict]:
        """(min, max) over the box, and the corners (variable -> value) where they occur."""
        lo = hi = self.const
        at_lo, at_hi = {}, {}
        for k, c in self.coef.items():
            v = dom[k]
            a, b = c * v.lo, c * v.hi
            if a <= b:
                lo, hi = lo + a, hi + b
                at_lo[k], at_hi[k] = v.lo, v.hi
            else:
                lo, hi = lo + b, hi + a
                at_lo[k], at_hi[k] = v.hi, v.lo
        return lo, hi, at_lo, at_hi

    def maxabs(self, dom: Domain) -> float:
        lo, hi, _, _ = self.bounds(dom)
        return max(abs(lo), abs(hi))

    def grid(self, dom: Domain) -> float | None:
        """The binary grid every value of the form lies on (None: no grid)."""
        g = grid_of(self.const)
        for k, c in self.coef.items():
            vg = dom[k].grid
            if vg is None:
                return None
            g = min(g, grid_of(c) * vg)
        return g

    def __repr__(self) -> str:
        parts = [f"{self.const:g}"] if self.const or not self.coef else []
        parts += [f"{c:+g}·{k}" for k, c in sorted(self.coef.items())]
        return " ".join(parts)


@no_type_check
@dataclass(frozen=True)
class Q:
    """A computed float32 quantity: its exact value ``form`` and ``err``, a bound on the
    distance of the model's float32 result from it."""

    form: Form
    err: float = 0.0

    @staticmethod
    def const(c: float, err: float = 0.0) -> "Q":
        return Q(Form(float(c)), float(err))

    @staticmethod
    def var(name: str, err: float = 0.0) -> "Q":
        return Q(Form.var(name), float(err))

    @property
    def is_zero(self) -> bool:
        return self.form.is_zero and self.err == 0.0

    def bounds(self, dom: Domain) -> tuple[float, float]:
        lo, hi, _, _ = self.form.bounds(dom)
        return lo - self.err, hi + self.err

    def maxabs(self, dom: Domain) -> float:
        return self.form.maxabs(dom) + self.err

    def substitute(self, name: str, value: Form) -> "Q":
        return Q(self.form.substitute(name, value), self.err)


@no_type_check
def interval(lo: float, hi: float) -> Q:
    """The interval [lo, hi] as a constant with an error (no variables)."""
    return Q(Form((lo + hi) / 2.0), (hi - lo) / 2.0)


@no_type_check
@dataclass
class Arith:
    """float32 arithmetic on ``Q`` over one ``Domain`` (the error model above)."""

    dom: Domain

    def _term(self, c: float, q: Q) -> tuple[Form, float, float, float]:
        """c·q: (exact form, error bound, least value, largest value)."""
        form = q.form * c
        lo, hi = q.bounds(self.dom)
        lo, hi = sorted((c * lo, c * hi))
        mag = max(-lo, hi)
        err = abs(c) * q.err
        if is_pow2(c):
            rounds = False  # scaling by a power of two is exact
        elif q.err == 0.0 and not q.form.coef:
            rounds = _f32(c * q.form.const) != c * q.form.const  # a constant product: checked
        else:
            g = q.form.grid(self.dom) if q.err == 0.0 else None
            rounds = g is None or mag >= 2.0 ** BITS * grid_of(c) * g  # else its bits fit 24
        if rounds:
            err += halfulp(mag)
            lo, hi = lo - halfulp(mag), hi + halfulp(mag)
        return form, err, lo, hi

    def lin(self, terms: Iterable[tuple[float, Q]], bias: float = 0.0) -> Q:
        """Σ c·q + bias, summed in any order (an einsum row plus its bias)."""
        form, err, ranges, grids, errs = Form(float(bias)), 0.0, [], [], []
        if bias != 0.0:
            ranges.append((min(bias, 0.0), max(bias, 0.0)))
            grids.append(grid_of(bias))
            errs.append(0.0)
        for c, q in terms:
            if c == 0.0 or q.is_zero:
                continue
            f, e, lo, hi = self._term(float(c), q)
            form, err = form + f, err + e
            ranges.append((lo, hi))
            grids.append(f.grid(self.dom))
            errs.append(e)
        return self._summed(form, err, ranges, grids, errs)

    def add(self, *qs: Q) -> Q:
        """q1 + q2 + ... (elementwise float32 adds, any order)."""
        return self.lin([(1.0, q) for q in qs])

    def _summed(self, form: Form, err: float, ranges: list, grids: list, errs: list[float]) -> Q:
        """The sum of terms with exact parts ``form`` (their grids ``grids``, each term's
        range in ``ranges``) and errors ``errs``: exact when every exact part lies on a
        grid g, every partial sum stays below 2^24·g, the errors below g·2^-25, and the
        result is never 0 on the box (each addition whose exact part is non-zero rounds back
        onto the grid); else (K - 1)·halfulp(S), S bounding every partial sum: the larger
        of the positive parts' and the negative parts' totals."""
        k = len(ranges)
        if k <= 1:
            return Q(form, err)
        S = max(sum(max(hi, 0.0) for _, hi in ranges), sum(max(-lo, 0.0) for lo, _ in ranges))
        S = S * (1 + 2.0 ** -20) + err
        if all(x is not None for x in grids):
            g = min(grids)
            if g != math.inf and S < 2.0 ** BITS * g and err < g * 2.0 ** -25:
                if err == 0.0:
                    return Q(form, 0.0)
                lo, hi, _, _ = form.bounds(self.dom)
                if lo > 0.0 or hi < 0.0:
                    return Q(form, 0.0)  # never 0: on the grid, at least g; the errors are absorbed
                return Q(form, err * (1 + 2.0 ** -20))
        slack = S * 2.0 ** -50  # the float64 evaluation of the form itself
        return Q(form, err + (k - 1) * halfulp(S) + slack)

    def sigma(self, q: Q, slope: float) -> Q:
        """Leaky ReLU (``slope``; 0: ReLU): linear where the sign is known; else the
        tightest of q + [0, (1 - slope)·max(0, -lo)], slope·q + [0, (1 - slope)·hi] and the
        hull."""
        lo, hi = q.bounds(self.dom)
        if lo >= 0.0:
            return q
        if hi <= 0.0:
            if slope == 0.0:
                return Q.const(0.0)
            return self.lin([(slope, q)])
        r = halfulp(slope * max(-lo, hi)) if slope else 0.0  # slope·q for the negative side
        a = (1.0 - slope) * -lo
        b = (1.0 - slope) * hi
        options = [Q(q.form + a / 2, q.err + a / 2 + r), interval(slope * lo - r, hi)]
        if slope:
            options.append(Q(q.form * slope + b / 2, slope * q.err + b / 2 + r))
        return min(options, key=lambda o: o.err)

    def vmax(self, a: Q, b: Q) -> Q:
        """max(a, b) (exact): one operand where the difference's sign is known; else the
        tightest of a + [0, max(0, hi(b - a))], the same about b, and the hull."""
        d = Q(a.form - b.form, a.err + b.err)
        lo, hi = d.bounds(self.dom)
        if lo >= 0.0:
            return a
        if hi <= 0.0:
            return b
        alo, ahi = a.bounds(self.dom)
        blo, bhi = b.bounds(self.dom)
        ma, mb = -lo, hi  # max(0, hi(b - a)), max(0, hi(a - b))
        options = [Q(a.form + ma / 2, a.err + ma / 2), Q(b.form + mb / 2, b.err + mb / 2),
                   interval(max(alo, blo), max(ahi, bhi))]
        return min(options, key=lambda o: o.err)

    def attend(self, winner: Q, leak: float) -> Q:
        """Σ_j α_ij ν_j with α_w = 1 and the losers' Σ α_l |ν_l| <= ``leak``: the winner's
        own float32 value when the leak is below a quarter ulp of its least magnitude
        (every partial sum holding ν_w rounds back to it), else that value ± 2.01·leak."""
        if leak == 0.0:
            return winner
        lo, hi = winner.bounds(self.dom)
        least = lo if lo > 0 else (-hi if hi < 0 else 0.0)
        if least > 0.0 and leak < halfulp(least) / 2:
            return winner
        return Q(winner.form, winner.err + 2.01 * leak)

    def hull(self, qs: list[Q], leak: float, n: int) -> Q:
        """Σ_j α_ij ν_j for an unknown mixture α over ``qs`` (plus ``leak``): their hull,
        widened by the rounding of an n-term convex sum."""
        lo = min(q.bounds(self.dom)[0] for q in qs)
        hi = max(q.bounds(self.dom)[1] for q in qs)
        mag = max(abs(lo), abs(hi))
        r = 2 * n * halfulp(mag) + 2.01 * leak
        return interval(lo - r, hi + r)


@no_type_check
def _f32(x: float) -> float:
    import numpy as np

    return float(np.float32(x))
