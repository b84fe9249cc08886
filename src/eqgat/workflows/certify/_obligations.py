"""The proof obligations, one function each, over every local configuration class.

A *scenario* is a receiver class with what the round does to it: the selection picks a
*winner* among its candidates (every eligible point; ``Program.winners``), or, for a
receiver with no masked candidate, the attention is a mixture over its attended unmasked
senders (``empty``). Scenarios give the update (gates, the clean state) and the decoders;
*pairs* (receiver, preferred sender, other sender, relation) give the selection margins.

The obligations (``Certifier.obligations``):

0. ``supported``: the model is a one-head, layer-norm-free, general-mechanism GATv2 whose
   read inputs are the ones modelled; otherwise the certificate fails closed.
1. ``selection margin``: whenever the program prefers sender a to sender b, the logit of a
   exceeds that of b (worst gap in logits, after rounding).
2. ``softmax leak``: every gap is at least G = ln((N - 1)/λ) so that the n - 1 losers keep
   at most λ = 2^-40 of the mass: the winner's α is exactly 1 and the leak is bounded.
3. ``gate slack``: every slot whose gate the round closes has a pre-activation below 0
   (after the leak and rounding): its ReLU outputs exactly 0.
4. ``decoder margins``: masks decode the program's flag, pointers its pointer (fed-back
   ones to within λ of one-hot), scalars its value within verify's tolerance.
5. ``clean state``: the state after a step is the program's, slot by slot, up to an error
   that the iteration bounds over the trace's S steps; every other obligation is checked
   with that error on its inputs.
"""

import math
from collections.abc import Iterator
from typing import no_type_check  # hot pure-Python loops: no per-call checks (package docstring)

from ._decoders import DecoderMargins
from ._forms import Arith, Domain, Form, Q
from ._local import ONE_HOT, LocalModel, Unsupported, need_gap
from ._margins import SelectionMargins
from ._obligation import LEAK, Obligation, Scenario, apply_all, solve
from ._precondition import Precondition
from ._states import Node, NodeClass, Point, Program


@no_type_check
class Certifier(SelectionMargins, DecoderMargins):
    """The obligations for one model at one N (``certify`` runs it): the scenarios, the
    update and its error recursion, obligations 0, 3 and 5 here; 1-2 from
    ``SelectionMargins`` (``_margins``), 4 from ``DecoderMargins`` (``_decoders``)."""

    def __init__(self, model, plan, layout, pre: Precondition, *, weighted: bool):
        self.pre = pre
        self.prog = Program(plan, layout, pre, weighted=weighted)
        self.lm = LocalModel(model, self.prog)
        self.N = pre.max_nodes
        self.G = need_gap(self.N, LEAK)
        self.hint_err = LEAK  # fed-back masks: within this of 0 or 1 (their decoders clear G)
        self.lam = 0.0  # the losers' mass: 0 when every gap clears ONE_HOT (checked by ``margins``)
        self.errs: dict = {}
        self.error_steps = 0

    # ------------------------------------------------------------------ scenarios

    def receivers(self) -> Iterator[tuple[Node, list[Point], Domain]]:
        """Every receiver class with its candidates: those whose selection the program
        reads first (so that, among equal slacks, the worst reported is one that matters
        to the program), then frozen ones; later steps before step 0."""
        classes = [c for e in ("run", "init") for c in self.prog.classes(e)]
        classes.sort(key=lambda c: self.prog.kind(c) == "frozen")
        for cls in classes:
            dom = Domain()
            recv = self.prog.node(cls, "i", dom)
            yield recv, self.prog.points(recv, dom), dom

    def _key_var(self, p: Point, dom: Domain, name: str, hi: float) -> dict:
        """Substitute ``p``'s key carrier so that its key is the variable ``name`` in [lo, hi]."""
        c = self.prog.carrier(p)
        if c is None:
            return {}
        K = self.prog.key(p)
        klo, khi, _, _ = K.bounds(dom)
        grid = None if self.prog.id_keyed else self.pre.grid
        dom.declare(name, max(klo, 0.0), min(khi, hi), grid)
        return {c: solve(K, c, Form.var(name))}

    @property
    def key_hi(self) -> float:
        """The largest key a winner can have (ids < 1; values < V)."""
        return self.pre.x_max if self.prog.id_keyed else self.pre.value_bound - self.pre.grid

    @property
    def spacing(self) -> float:
        """The least difference of two distinct keys (ids: the id spacing; values: the grid)."""
        return self.pre.id_spacing if self.prog.id_keyed else self.pre.grid

    def scenarios(self) -> list[Scenario]:
        """Every receiver class with each outcome of its round (module docstring)."""
        out = []
        prog = self.prog
        for recv, pts, dom in self.receivers():
            kind = prog.kind(recv.cls)
            for w in prog.winners(recv, pts, dom):
                d = Domain(dom)
                subs = self._key_var(w, d, "kw", self.key_hi)
                moved = False
                if kind == "incumbent":
                    own = f"i.{prog.expr_comp}"
                    kw = apply_all(prog.key(w), subs)
                    if prog.bonus(w):
                        subs[own] = kw
                        if prog.parent_comp:
                            subs[f"i.{prog.parent_comp}"] = apply_all(w.node.x, subs)
                    else:
                        d.declare("dk", self.pre.grid, self.pre.value_bound, self.pre.grid)
                        subs[own] = kw + Form.var("dk")
                        moved = True
                r = recv.substitute(subs)
                wp = w.substitute(subs) if not w.is_self else Point(r, w.edge.substitute(subs), w.role)
                nxt = prog.next_class(r.cls, wp, moved)
                vals = prog.next_values(r, wp)
                delta = Form(0.0)
                if nxt.fell:
                    delta = r.vals[prog.expr_comp] - prog.key(wp)
                out.append(Scenario(r, [p.substitute(subs) for p in pts], d, wp, subs, nxt, vals, delta))
            if prog.may_be_empty(recv.cls):
                nxt = prog.next_class(recv.cls, None, False)
                mix = [p for p in pts if p.edge.attended and not prog.masked(p.node)]
                out.append(Scenario(recv, pts, dom, None, {}, nxt, prog.next_values(recv, None), Form(0.0), mix))
        return out

    # ------------------------------------------------------------------ the update

    def _C(self, node: Node, ar: Arith) -> list[Q]:
        return self.lm.C(node, ar, self.errs, self.hint_err)

    def update(self, sc: Scenario) -> list[tuple[int, Q, Form, str]]:
        """Per named slot: (row, pre-activation, the program's value, mode), mode ``on``
        (its gate open: relu(pre) must be the value), ``off`` (closed: pre <= 0) or
        ``flag`` (a flag's slot: relu(pre) must be the flag)."""
        ar = Arith(sc.dom)
        lm, prog = self.lm, self.prog
        Ci = self._C(sc.recv, ar)
        nv = lm.s
        has_info = lm.W_info is not None
        leak_v, leak_i = self.leaks()
        if sc.winner is not None:
            wv, wi = self._offer(sc.recv, sc.winner, Ci, ar)
            sel = [ar.attend(wv[k], leak_v[k]) for k in range(nv)]
            info = [ar.attend(wi[k], leak_i[k]) for k in range(nv)] if has_info else None
        else:
            mix = [self._offer(sc.recv, p, Ci, ar) for p in sc.mixture]
            sel = [ar.hull([v[0][k] for v in mix], leak_v[k], self.N) for k in range(nv)]
            info = [ar.hull([v[1][k] for v in mix], leak_i[k], self.N) for k in range(nv)] if has_info else None
        pre = lm.pre(sel, info, lm.skip(Ci, ar), ar)
        out = []
        nxt = sc.next_cls
        for (row, value, _), d in zip(prog.slots(nxt, sc.next_vals, sc.next_delta, sc.recv.x), prog.lay.H):
            out.append((row, pre[row], value, self.gate_mode(d, nxt, sc.recv.cls)))
        named = {r for r, _, _, _ in out}
        for row in range(lm.s):  # every other channel must stay exactly 0
            if row not in named:
                out.append((row, pre[row], Form(0.0), "off"))
        return out

    def leaks(self) -> tuple[list[float], list[float] | None]:
        """Per channel, the losers' mass λ times the largest |ν_j| (and |W_info E_ij|) any candidate of any
        receiver offers, its slots at their largest allowed error (``caps``; the clean-state
        obligation checks the errors stay below): a bound on the losers' Σ α_l |ν_l|."""
        if getattr(self, "_leaks", None) is not None:
            return self._leaks
        saved, caps = self.errs, self.caps()
        self.errs = {(cls, row): cap for cls in _all_classes(self.prog) for row, cap in caps.items()}
        nv, has_info = self.lm.s, self.lm.W_info is not None
        mv, mi = [0.0] * nv, [0.0] * nv
        for recv, pts, dom in self.receivers():
            ar = Arith(dom)
            Ci = self._C(recv, ar)
            for p in pts:
                v, i = self._offer(recv, p, Ci, ar)
                for k in range(nv):
                    mv[k] = max(mv[k], v[k].maxabs(dom))
                    if has_info:
                        mi[k] = max(mi[k], i[k].maxabs(dom))
        self.errs = saved
        self._leaks = ([self.lam * m for m in mv], [self.lam * m for m in mi] if has_info else None)
        return self._leaks

    def _offer(self, recv: Node, p: Point, Ci: list[Q], ar: Arith) -> tuple[list[Q], list[Q] | None]:
        """(ν_j, W_info E_ij) of candidate ``p``."""
        Cj = Ci if p.is_self else self._C(p.node, ar)
        ef = self.lm.E(recv, p.node, p.edge, ar, self.hint_err)
        return self.lm.values(Cj, ar), self.lm.info(ef, ar)

    def gate_mode(self, d, nxt: NodeClass, recv: NodeClass) -> str:
        """The slot contract's gate of direction ``d`` in a round ending in class ``nxt``."""
        if d.role == "value":
            return "flag"
        if d.role == "delta":
            return "on" if (recv.flag or recv.start) else "off"
        if d.role in ("take", "keep", "self"):
            return "on" if nxt.case == d.role else "off"
        raise Unsupported(f"slot {d}")

    def step_errors(self) -> dict:
        """One step of the error recursion: the bound on every (class, slot) after a step
        whose inputs are within ``self.errs``."""
        new = dict(self.errs)
        for sc in self.scenarios_cache:
            for row, q, value, mode in self.update(sc):
                key = (sc.next_cls, row)
                new[key] = max(new.get(key, 0.0), self.deviation(q, value, mode, sc.dom))
        return new

    @staticmethod
    def deviation(q: Q, value: Form, mode: str, dom: Domain) -> float:
        """The largest |relu(pre) - value| (value >= 0): max(0, hi(pre)) when the value is
        0, else |pre - value| (ReLU is 1-Lipschitz and fixes the value)."""
        if mode == "off" or value.is_zero:
            return max(0.0, q.bounds(dom)[1])
        return Q(q.form - value, q.err).maxabs(dom)

    def iterate_errors(self) -> None:
        """e_0 = 0 (H = 0, exact inputs); e_{t+1} = max(e_t, step(e_t)) for the trace's S
        steps (stops early at a fixed point)."""
        self.scenarios_cache = self.scenarios()
        self.errs = {}
        for t in range(self.pre.steps):
            new = self.step_errors()
            self.error_steps = t + 1
            if new == self.errs:
                break
            self.errs = new

    # ------------------------------------------------------------------ obligations

    def supported(self) -> Obligation:
        ob = Obligation("supported", "the model is a form the certificate models (else it fails closed)",
                        unit="problems")
        problems = list(self.lm.problems)
        plan = self.prog.plan
        if not (plan.flag and plan.start and plan.mask):
            problems.append("a program without a started, masking flag (the certificate models BFS-like rounds)")
        if plan.offset_pointers:
            problems.append(f"pointers read from senders ({sorted(plan.offset_pointers)}: stored as offsets)")
        if self.prog.lay.heads:
            problems.append("a layout with heads (the depth-first backend)")
        ob.see(-float(len(problems)) if problems else 0.0,
               "; ".join(problems) or "a one-head GATv2 without layer norm; every input it reads is modelled")
        return ob

    def gates(self) -> tuple[Obligation, Obligation]:
        """Obligations 3 and 5 at the final error bound."""
        g = Obligation("gate slack", "every slot whose gate the round closes has a negative pre-activation "
                       "(leak and rounding included): it is exactly 0", unit="value units")
        c = Obligation("clean state", f"after every step (up to S = {self.pre.steps}) each slot is the program's "
                       "value within the bound the other obligations were checked with; the bound is at most a "
                       "quarter of the quantity's resolution (ids: the id spacing; values: the grid; flags: 1)",
                       unit="fraction of the allowed error left")
        caps = self.caps()
        for sc in self.scenarios_cache:
            for row, q, value, mode in self.update(sc):
                d = self._direction(row)
                where = lambda sc=sc, d=d: f"{sc.describe()}; slot {d}"  # noqa: E731
                if mode == "off":
                    hi = q.bounds(sc.dom)[1]
                    _, _, _, at = q.form.bounds(sc.dom)
                    exact_zero = q.form.is_zero and q.err == 0.0  # no gate to speak of: nothing reads into it
                    g.see(math.inf if exact_zero else -hi, where, {"scenario": sc, "row": row, "at": at})
                else:
                    got = self.deviation(q, value, mode, sc.dom)
                    _, _, _, at = q.form.bounds(sc.dom)
                    cap = caps.get(row, 0.25)
                    c.see(1.0 - got / cap, lambda sc=sc, d=d, got=got, cap=cap: f"{sc.describe()}; slot {d}: error "
                          f"{got:.3g} of the {cap:.3g} allowed", {"scenario": sc, "row": row, "at": at})
        return g, c

    def caps(self) -> dict[int, float]:
        """The largest error a slot may carry: a quarter of the id spacing for ids and
        pointers, of the grid for values, 1/4 for flags."""
        out = {}
        for d, row in zip(self.prog.lay.H, self.prog.lay.H_rows):
            if d.role == "value":
                out[row] = 0.25
            elif d.role == "self" or d.component in self.prog.pointers:
                out[row] = self.pre.id_spacing / 4
            else:
                out[row] = (self.pre.grid or 1.0) / 4
        return out

    def _direction(self, row: int) -> str:
        lay = self.prog.lay
        for d, r in zip(lay.H, lay.H_rows):
            if r == row:
                return str(d)
        return f"channel {row}"

    def obligations(self) -> list[Obligation]:
        """Every obligation (a failing ``supported`` stops the rest: nothing else is sound).

        The update's leak depends on the margins and the margins on the errors the update
        leaves: the run assumes the losers keep no mass (every gap at least ``ONE_HOT``:
        the softmax is exactly one-hot), and when the margins fall short it reruns with
        the mass their least gap allows, until the assumption covers the result."""
        sup = self.supported()
        if not sup.passed:
            return [sup]
        for _ in range(4):
            self._leaks = None
            self.iterate_errors()
            m, k = self.margins()
            need = 0.0 if m.worst >= ONE_HOT else min(1.0, (self.N - 1) * math.exp(-max(m.worst, 0.0)) * (1 + 8 * 2.0 ** -24))
            if need <= self.lam or need > LEAK:
                break
            self.lam = need
        if self.lam < need:
            k.passed = False
        g, c = self.gates()
        return [sup, m, k, g, *self.decoders(), c]


@no_type_check
def _all_classes(prog: Program) -> list[NodeClass]:
    return [c for e in ("init", "run") for c in prog.classes(e)]
