"""``certify``: run the obligations for a model at N, choosing the precondition (the value
grid and bound) when the program selects by value, and the ``Certificate`` it returns."""

import math
import time
from dataclasses import dataclass, field

from ...algorithms import get_algorithm
from ...compiler import VALUE_BOUND, analyse, layout as compiler_layout
from ...lang import GraphProgram
from ._obligation import Obligation
from ._obligations import Certifier
from ._precondition import Precondition

#: The error model every bound is computed in (printed with the certificate).
ERROR_MODEL = (
    "float32 round-to-nearest: every product and every addition of an einsum or bias add rounds by at most half an "
    "ulp of a bound on its result, in any summation order (no reassociation across operations; an FMA only rounds "
    "less); a sum of terms that all lie on a binary grid g and stay below 2^24·g is exact; exp is within 4 ulp and "
    "is 0 below -104 (float32 underflow; XLA flushes subnormals)"
)

#: Value bounds tried, largest first, for a program that selects by value (as fractions of
#: VALUE_BOUND): exact ties' logits round most near the top of the value range.
VALUE_FRACTIONS = (1.0, 63 / 64, 31 / 32, 15 / 16)


@dataclass
class Certificate:
    """What ``certify`` proved about a model, obligation by obligation.

    **Arguments:**

    - `algorithm`: the model's algorithm.
    - `max_nodes`: N, the largest graph certified.
    - `precondition`: the graphs the proof covers (``Precondition``: ids, value grid and
      bound, steps).
    - `obligations`: each ``Obligation`` with its configuration count, worst slack and
      where it occurs.
    - `error_model`: the rounding model every bound is computed in.
    - `seconds`: how long the proof took.
    - `error_steps`: steps of the state-error recursion run (it stops at a fixed point).
    - `notes`: anything else worth saying (e.g. what was tried before this precondition).
    - `counterexample`: for a refused model, a concrete graph the model misses (or None).

    ``certified`` is True when every obligation holds; ``str(cert)`` prints it, ending in
    ``CERTIFIED`` or ``NOT CERTIFIED`` with the first violated obligation and a
    ``counterexample:`` line.
    """

    algorithm: str
    max_nodes: int
    precondition: Precondition
    obligations: list[Obligation]
    error_model: str = ERROR_MODEL
    seconds: float = 0.0
    error_steps: int = 0
    notes: list[str] = field(default_factory=list)
    counterexample: object = None
    searched: int | None = None  # graphs the counterexample search tried (None: not run)
    search_note: str = ""

    @property
    def certified(self) -> bool:
        return all(o.passed for o in self.obligations)

    @property
    def violated(self) -> Obligation | None:
        """The first obligation that fails (None when certified)."""
        return next((o for o in self.obligations if not o.passed), None)

    def __str__(self) -> str:
        lines = [f"certify {self.algorithm}: every graph of up to {self.max_nodes} nodes",
                 f"precondition: {self.precondition.describe()}",
                 f"error model: {self.error_model}",
                 f"{'obligation':<18} {'configs':>8} {'worst slack':>14}  unit / where"]
        for o in self.obligations:
            mark = "" if o.passed else "  <- VIOLATED"
            worst = f"{o.worst:.6g}" if math.isfinite(o.worst) else "-"
            lines.append(f"{o.name:<18} {o.configurations:>8} {worst:>14}  {o.unit}{mark}")
            lines.append(f"{'':<18} {'':>8} {'':>14}  at: {o.where}")
        lines += [f"note: {n}" for n in self.notes]
        lines.append(f"({self.seconds:.1f} s; state errors bounded over {self.error_steps} step(s))")
        if self.certified:
            lines.append("CERTIFIED")
        else:
            v = self.violated
            lines.append(f"NOT CERTIFIED: {v.name} fails ({v.what}); worst slack {v.worst:.6g} {v.unit}")
            lines.append(f"  where: {v.where}")
            if self.counterexample is not None:
                lines.append(f"counterexample: {self.counterexample.describe()}")
            elif self.searched is None:
                lines.append("counterexample: not searched")
            elif self.search_note:
                lines.append(f"counterexample: none ({self.search_note})")
            else:
                lines.append(f"counterexample: none found among {self.searched} graphs searched (the obligation "
                             "fails by its bound; no graph tried attains it)")
        return "\n".join(lines)

    def to_json(self) -> dict:
        out = {"algorithm": self.algorithm, "max_nodes": self.max_nodes, "certified": self.certified,
               "precondition": self.precondition.to_json(), "precondition_text": self.precondition.describe(),
               "error_model": self.error_model, "seconds": self.seconds, "error_steps": self.error_steps,
               "obligations": [o.to_json() for o in self.obligations], "notes": self.notes}
        if not self.certified:
            out["violated"] = self.violated.name
            out["counterexample"] = None if self.counterexample is None else self.counterexample.to_json()
            out["searched"] = self.searched
        return out


def certify(model, *, max_nodes: int, layout=None, counterexample: bool = True,
            search_seconds: int | float = 90.0) -> Certificate:
    """Prove ``model`` exact on every graph of up to ``max_nodes`` nodes satisfying the
    certificate's precondition, by local configurations (``eqgat.workflows.certify``).

    **Arguments:**

    - `model`: a model compiled from a registered algorithm's ``GraphProgram`` with the
      general mechanism (its weights as they are: a changed weight is judged as it is).
    - `max_nodes`: N, the largest graph certified.
    - `layout`: the compiler's ``Layout`` of the model's named directions (a compiled
      checkpoint stores it); default: the program's layout at the model's hidden size.
    - `counterexample`: when an obligation fails, search for a concrete graph the model
      misses (``Certificate.counterexample``).
    - `search_seconds`: the time that search may take.

    **Returns:**

    A ``Certificate``; ``.certified`` says whether every obligation holds.
    """
    if not isinstance(max_nodes, int) or max_nodes < 2:
        raise ValueError(f"max_nodes must be an integer >= 2, got {max_nodes!r}")
    t0 = time.time()
    alg = get_algorithm(model.algorithm)
    program = alg.program
    if not isinstance(program, GraphProgram):
        raise ValueError(f"certify proves graph programs (bfs, bellman_ford, ...); {model.algorithm!r} has "
                         f"{'no program' if program is None else 'a ' + type(program).__name__ + ' program'}")
    plan = analyse(program)
    if layout is None:
        layout = compiler_layout(plan, model.hidden_size, "paper" if model.config.use_pre_att_bias else "general")
    if alg.trace_bound is None:
        raise ValueError(f"{model.algorithm!r} has no trace bound: certify needs the most steps a trace takes")
    steps = alg.trace_bound(max_nodes) - 1
    spacing = 1.0 / max_nodes - 2.0 ** -24
    notes = []
    if layout.mechanism != "general":
        pre = Precondition(max_nodes, spacing, VALUE_BOUND, VALUE_BOUND, None, steps)
        ob = Obligation("supported", "the model is a form the certificate models (else it fails closed)",
                        unit="problems")
        ob.see(-1.0, f"the {layout.mechanism} mechanism (certify covers the general mechanism)")
        return _finish(Certificate(model.algorithm, max_nodes, pre, [ob], notes=notes), t0)
    if not plan.scalar_expr:  # keys are ids or pointers: the id grid is the only precondition
        pre = Precondition(max_nodes, spacing, VALUE_BOUND, VALUE_BOUND, None, steps)
        cert = _run(model, plan, layout, pre, alg.weighted)
    else:
        cert = _search(model, plan, layout, max_nodes, spacing, steps, alg.weighted, notes)
    cert.notes = notes + cert.notes
    _finish(cert, t0)
    if counterexample and not cert.certified:
        from ._counterexample import search

        found, tried = search(model, cert, seconds=search_seconds)
        cert.counterexample, cert.searched = found, tried
        if alg.reference is None:
            cert.search_note = f"{model.algorithm} has no reference trace to run graphs against"
        cert.seconds = time.time() - t0
    return cert


def _run(model, plan, layout, pre: Precondition, weighted: bool) -> Certificate:
    c = Certifier(model, plan, layout, pre, weighted=weighted)
    try:
        obs = c.obligations()
    except ValueError as err:  # a part of the program or model outside what is modelled
        ob = Obligation("supported", "the model is a form the certificate models (else it fails closed)",
                        unit="problems")
        ob.see(-1.0, str(err))
        obs = [ob]
    cert = Certificate(model.algorithm, pre.max_nodes, pre, obs, error_steps=c.error_steps)
    cert._certifier = c
    return cert


def _search(model, plan, layout, N: int, spacing: float, steps: int, weighted: bool, notes: list) -> Certificate:
    """The finest value grid 2^-q and, at it, the largest value bound at which every
    obligation holds (a program that selects by value: weights on the grid make every two
    keys exactly tied or a grid step apart, and keep the arithmetic exact). A coarser grid
    helps the separated keys' margins, a lower value bound the exact ties' (their logits'
    rounding grows with the value)."""
    V = VALUE_BOUND
    q0 = _grid_estimate(model, plan, layout, N, spacing, steps, weighted)
    tried, best, first = 0, None, None

    def at(q: int, fracs) -> Certificate:
        nonlocal tried, first
        cert = None
        for frac in fracs:
            cert = _run(model, plan, layout, Precondition(N, spacing, V * frac, V, 2.0 ** -q, steps), weighted)
            tried += 1
            first = first or cert
            v = cert.violated
            if v is None or v.name not in ("selection margin", "softmax leak") \
                    or v.detail.get("rel") not in ("tie-id", "tie-free"):
                return cert  # certified, or a failure a lower value bound does not help
        return cert

    fracs = VALUE_FRACTIONS
    for q in range(q0, 21):  # finer while it certifies
        cert = at(q, fracs)
        if not cert.certified:
            break
        best = cert
        fracs = tuple(f for f in VALUE_FRACTIONS if f <= cert.precondition.value_bound / V)
    if best is None:
        for q in (q0 - 1,):  # coarser, in case the estimate was optimistic
            if q >= 0 and (cert := at(q, VALUE_FRACTIONS)).certified:
                best = cert
                break
    if best is not None:
        notes.append(f"precondition chosen over {tried} runs: the finest value grid 2^-q at which every "
                     f"obligation holds, and at it the largest value bound (tried {V:g} down to "
                     f"{V * VALUE_FRACTIONS[-1]:g})")
        return best
    notes.append(f"no precondition tried certifies (grids 2^-{q0} and 2^-{max(q0 - 1, 0)}, value bounds "
                 f"{V * VALUE_FRACTIONS[-1]:g} to {V:g}; {tried} runs); shown: the first, grid 2^-{q0} with value bound "
                 f"{V:g}")
    return first


def _grid_estimate(model, plan, layout, N, spacing, steps, weighted) -> int:
    """The finest grid whose step the separated pairs' margins can afford: each such gap
    grows with the key difference dk; solve for the dk that clears the one-hot gap."""
    V = VALUE_BOUND
    pre = Precondition(N, spacing, V, V, 2.0 ** -20, steps)
    c = Certifier(model, plan, layout, pre, weighted=weighted)
    if not c.supported().passed:
        return 20
    from ._local import ONE_HOT

    c.iterate_errors()
    need = 2.0 ** -20
    for recv, w, l, rel, pts, dom in c.pairs():
        if rel != "sep":
            continue
        res = c.pair_gap(recv, w, l, rel, dom, slope=True)
        if res is None:
            continue
        gap, at, slope = res
        if slope > 0 and gap < ONE_HOT:
            need = max(need, at.get("dk", 0.0) + (ONE_HOT - gap) / slope)
        elif slope <= 0 and gap < ONE_HOT:
            return 20  # more separation does not help: let the full run say why
    return int(max(0, min(20, math.floor(-math.log2(need)))))


def _finish(cert: Certificate, t0: float) -> Certificate:
    cert.seconds = time.time() - t0
    return cert

