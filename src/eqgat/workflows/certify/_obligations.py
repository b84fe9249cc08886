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
from dataclasses import dataclass, field
from typing import no_type_check  # hot pure-Python loops: no per-call checks (package docstring)

from ...probes import Stage, Type
from ._forms import Arith, Domain, Form, Q
from ._local import ONE_HOT, LocalModel, Unsupported, need_gap
from ._states import Edge, Node, NodeClass, Point, Program, Precondition

#: The most softmax mass the losers may keep (obligation 2).
LEAK = 2.0 ** -40
#: Scalar decoders: verify's tolerance |pred - truth| <= RTOL·|truth| + ATOL.
RTOL, ATOL = 1e-4, 1e-6


@dataclass
class Obligation:
    """One proof obligation's result.

    **Arguments:**

    - `name`: its name.
    - `what`: what it proves, in a sentence.
    - `configurations`: how many local configuration classes it covered (each a box of
      ids, values and weights).
    - `worst`: its worst slack (>= 0 holds; `unit` says in what).
    - `unit`: the slack's unit.
    - `where`: the configuration where the worst slack occurs.
    - `passed`: whether it holds.
    - `detail`: the worst configuration's variables (for the counterexample search).
    """

    name: str
    what: str
    configurations: int = 0
    worst: float = math.inf
    unit: str = ""
    where: str = ""
    passed: bool = True
    detail: dict = field(default_factory=dict)

    def see(self, slack: float, where, detail: dict | None = None, *, ok: bool | None = None,
            count: int = 1) -> None:
        """Count ``count`` configurations (that share one bound) with ``slack`` (``ok``:
        whether it holds; default slack >= 0); ``where`` (a string, or a function giving
        one) names it when it is the worst so far."""
        self.configurations += count
        if slack < self.worst:
            self.worst = slack
            self.where = where() if callable(where) else where
            self.detail = detail or {}
        if not (slack >= 0.0 if ok is None else ok):
            self.passed = False

    def to_json(self) -> dict:
        return {"name": self.name, "what": self.what, "configurations": self.configurations,
                "worst_slack": self.worst if math.isfinite(self.worst) else None, "unit": self.unit,
                "where": self.where, "passed": self.passed}


@no_type_check
@dataclass
class Scenario:
    """A receiver, its candidates, and what the round does: ``winner`` (None: the empty
    mixture), the substitution that ties the receiver to it, and the next state."""

    recv: Node
    points: list[Point]
    dom: Domain
    winner: Point | None
    subs: dict
    next_cls: NodeClass
    next_vals: dict
    next_delta: Form
    mixture: list[Point] = field(default_factory=list)

    def describe(self) -> str:
        r = f"receiver: {self.recv.cls.describe()}"
        if self.winner is not None:
            return r + f"; the selection picks {self.winner.describe()}"
        return r + "; no masked candidate (the attention mixes its unmasked senders)"


@no_type_check
class Certifier:
    """The obligations for one model at one N (``certify`` runs it)."""

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
        return {c: _solve(K, c, Form.var(name))}

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
                    kw = _apply(prog.key(w), subs)
                    if prog.bonus(w):
                        subs[own] = kw
                        if prog.parent_comp:
                            subs[f"i.{prog.parent_comp}"] = _apply(w.node.x, subs)
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

    def pairs(self) -> Iterator[tuple[Node, Point, Point, str, list[Point], Domain]]:
        """Every (receiver, preferred w, other l, relation) whose order the outcome needs:
        each possible winner against every other sender; an unmasked receiver's self
        against its non-neighbours (so that, with no masked candidate, the attention stays
        on unmasked senders)."""
        prog = self.prog
        for recv, pts, dom in self.receivers():
            kind = prog.kind(recv.cls)
            for w in prog.winners(recv, pts, dom):
                for l in pts:
                    if l is w or (w.edge.parent and l.edge.parent) or prog.two_starts(w, l):
                        continue
                    if not prog.eligible(recv, l):
                        yield recv, w, l, "free", pts, dom
                        continue
                    yield recv, w, l, "sep", pts, dom
                    bw, bl = prog.bonus(w), prog.bonus(l)
                    if prog.plan.expr_is_idx or (kind == "incumbent" and l.is_self and not bw):
                        continue  # distinct ids never tie; a sender tied with the incumbent's own key wins
                        # only if it is the unchanged parent (which keeps ties)
                    if bw and not bl:
                        yield recv, w, l, "tie-free", pts, dom
                    elif not bw and not bl:
                        yield recv, w, l, "tie-id", pts, dom
            if prog.may_be_empty(recv.cls):
                for s in (p for p in pts if p.is_self):
                    for l in pts:
                        if l.edge.kind == "non":
                            yield recv, s, l, "free", pts, dom

    def pair_gap(self, recv: Node, w: Point, l: Point, rel: str, dom: Domain, *, slope: bool = False):
        """The least logit gap a_w - a_l over the pair's box and where it occurs (None: the
        relation cannot hold); with ``slope``, also the gap's coefficient on the key
        difference ``dk``."""
        prog = self.prog
        d = Domain(dom)
        subs = self._key_var(w, d, "kw", self.key_hi)
        Kw = _apply(prog.key(w), subs)
        if rel == "free":
            target = None
        elif rel == "sep":
            d.declare("dk", self.spacing, self.pre.value_bound + self.pre.weight_bound if not prog.id_keyed else 1.0,
                      None if prog.id_keyed else self.pre.grid)
            target = Kw + Form.var("dk")
        else:
            target = Kw
        if target is not None:
            Kl = _apply(prog.key(l), subs)
            c = next((v for v in _carriers(Kl) if v not in subs), None)
            if c is not None:
                subs[c] = _solve(Kl, c, target)
            else:
                cw = next((v for v in _carriers(Kw)), None)
                if cw is None:
                    diff = Kl - target
                    lo, hi, _, _ = diff.bounds(d)
                    if not (lo <= 0.0 <= hi if rel != "sep" else hi >= 0.0):
                        return None
                elif rel == "sep":  # solve on the winner's side: kw = K_l - dk
                    subs[cw] = _solve(Kw, cw, Kl - Form.var("dk"))
                else:
                    subs[cw] = _solve(Kw, cw, Kl)
        if rel == "tie-id":
            d.declare("dx", self.pre.id_spacing, 1.0)
            xl = _apply(l.node.x, subs)
            xv = next(iter(xl.coef), None)
            if xv is None:
                return None
            subs[xv] = _solve(xl, xv, _apply(w.node.x, subs) + Form.var("dx"))
        for var, f in subs.items():  # a relation no assignment of the box satisfies: not realisable
            if var in d:
                lo, hi, _, _ = _apply(f, subs).bounds(d)
                if hi < d[var].lo or lo > d[var].hi:
                    return None
        worst = None
        for piece in self._pieces(d, (w, l), subs):
            ar = Arith(piece)
            r = recv.substitute(subs)
            Ci = self._C(r, ar)
            logits = []
            for p in (w, l):
                node = r if p.is_self else p.node.substitute(subs)
                Cj = Ci if p.is_self else self._C(node, ar)
                ef = self.lm.E(r, node, p.edge.substitute(subs), ar, self.hint_err)
                logits.append(self.lm.logit(Ci, Cj, ef, p.edge.attended, ar))
            diff = Q(logits[0].form - logits[1].form, logits[0].err + logits[1].err)
            lo, _, at_lo, _ = diff.form.bounds(piece)
            if worst is None or lo - diff.err < worst[0]:
                worst = (lo - diff.err, at_lo) + ((diff.form.coef.get("dk", 0.0),) if slope else ())
        return worst

    #: How the fall of a changed parent is split (as fractions of V): each piece bounds its key.
    FALL_PIECES = (0.0, 1 / 256, 1 / 64, 1 / 16, 1 / 4, 1.0)

    def _pieces(self, d: Domain, pts, subs: dict) -> Iterator[Domain]:
        """The box, split for a changed parent (the receiver's parent, whose value fell by
        Δ): the receiver's value was the parent's key plus Δ, below V, so key + Δ <= V - g.
        Each piece of Δ's range bounds the key (a dependent box as a union of boxes)."""
        changed = [p for p in pts if p.edge.parent and p.node.cls.fell and not p.is_self]
        if not changed:
            yield d
            return
        p = changed[0]
        var = f"{p.node.ns}.delta"
        key = _apply(self.prog.key(p), subs)
        V, g = self.pre.value_bound, self.pre.grid
        for a, b in zip(self.FALL_PIECES, self.FALL_PIECES[1:]):
            lo, hi = max(d[var].lo, a * V), min(d[var].hi, b * V)
            if lo > hi:
                continue
            piece = Domain(d)
            piece.declare(var, lo, hi, d[var].grid)
            if piece.at_most(key + Form.var(var), V - g):
                yield piece

    def margins(self) -> tuple[Obligation, Obligation]:
        """Obligations 1 and 2 from every ordered pair."""
        m = Obligation("selection margin", "whenever the program prefers one sender to another, its logit is "
                       "higher (after rounding)", unit="logits")
        k = Obligation("softmax leak", f"every preferred sender beats every other by G = {self.G:.3g} logits, so "
                       f"the n - 1 <= {self.N - 1} losers keep at most 2^-40 of the mass and the winner's α is exactly "
                       f"1 (at {ONE_HOT:g} logits the losers' α is exactly 0)", unit="logits above G")
        for recv, w, l, rel, pts, dom in self.pairs():
            res = self.pair_gap(recv, w, l, rel, dom)
            if res is None:
                continue
            gap, at = res
            where = lambda: _pair_text(recv, w, l, rel, at)  # noqa: E731
            detail = {"receiver": recv.cls, "w": w, "l": l, "rel": rel, "at": at}
            m.see(gap, where, detail, ok=gap > 0.0)
            k.see(gap - self.G, where, detail)
        return m, k

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

    def decoders(self) -> list[Obligation]:
        """Obligation 4, one per decoded probe, over every scenario's transition."""
        prog, lm = self.prog, self.lm
        spec = lm.spec
        out = []
        for name in lm.decoders:
            comp = prog.plan.program.probes.get(name)
            p = spec[name]
            fed = p.stage == Stage.HINT
            kind = {Type.MASK: "mask", Type.SCALAR: "scalar", Type.POINTER: "pointer"}.get(p.type, str(p.type))
            what = {"mask": "decodes the program's flag by its sign" + (" (fed back: by G)" if any(
                        n == name for n, _, _ in lm.node_hints) else ""),
                    "scalar": "decodes the program's value within verify's tolerance (1e-4 relative + 1e-6)",
                    "pointer": "decodes the program's pointer: the node it points at beats every other node"
                               + (f" by {ONE_HOT:g} logits (fed back: exactly one-hot)" if fed else "")}.get(kind, "")
            unit = "value units" if kind == "scalar" else "logits"
            ob = Obligation(f"decoder {name}", f"{p.stage} {name} ({kind}) {what}", unit=unit)
            for sc in self.scenarios_cache:
                ar = Arith(sc.dom)
                nxt = Node(sc.next_cls, "i", sc.recv.x, sc.next_vals, sc.next_delta)
                h = lm.V(sc.recv, ar, self.hint_err) + lm.H(sc.recv, self.errs) + lm.H(nxt, self.errs)
                where = lambda sc=sc: sc.describe()  # noqa: E731
                if kind == "mask":
                    q = lm.node_decoder(name, h, ar)
                    lo, hi = q.bounds(sc.dom)
                    need = self.G if any(n == name for n, _, _ in lm.node_hints) else 0.0
                    slack = (lo - need) if nxt.cls.flag else (-hi - need)
                    ob.see(slack, where, {"scenario": sc, "probe": name}, ok=slack > 0.0 if need == 0.0 else None)
                elif kind == "scalar":
                    q = lm.node_decoder(name, h, ar)
                    v = sc.next_vals[comp]
                    dev = Q(q.form - v, q.err).maxabs(sc.dom)
                    vlo = v.bounds(sc.dom)[0]
                    ob.see(ATOL + RTOL * max(vlo, 0.0) - dev, where, {"scenario": sc, "probe": name})
                elif kind == "pointer":
                    for slack, text, det, count in self._pointer(name, comp, sc, h, nxt, fed):
                        ob.see(slack, lambda sc=sc, text=text: f"{sc.describe()}; {text}", det,
                               ok=slack > 0.0 if not fed else None, count=count)
                else:
                    ob.see(-1.0, f"a {p.type} decoder is outside what the certificate models", {})
            out.append(ob)
        return out

    def _pointer(self, name: str, comp: str, sc: Scenario, h: list[Q], nxt: Node, fed: bool):
        """The pointer decoder's margins: the target (the node at the program's pointer)
        against every other node, ids at least the spacing apart, in both orders."""
        lm, prog = self.lm, self.prog
        target_x = nxt.vals[comp]
        self_target = target_x.coef == sc.recv.x.coef and target_x.const == sc.recv.x.const
        need = ONE_HOT if fed else 0.0
        cands = self._candidates(sc)
        for order in (+1.0, -1.0):
            d = Domain(sc.dom)
            d.declare("dx", self.pre.id_spacing, 1.0)
            ar = Arith(d)
            p1, p2i = lm.pointer_parts(name, h, ar)
            if self_target:
                targets = [(p2i, Edge("self", True, prog.edge_inputs("self", "ts", d)))]
            else:
                targets = []
                for cls, hj, tx in cands(d, "t", target_x):
                    for edge in self._edges_ji(d, "te", target=True, name=name):
                        targets.append((lm.pointer_parts(name, hj, ar)[1], edge))
            others = []
            for cls, hj, ox in cands(d, "o", target_x + Form.var("dx") * order):
                for edge in self._edges_ji(d, "oe", target=False, name=name):
                    others.append((lm.pointer_parts(name, hj, ar)[1], edge))
            # candidates whose read-outs are identical share one bound (counted each)
            tl = [(self._plogit(name, p1, p2, e, sc, ar), k) for p2, e, k in _dedupe(targets)]
            ol = [(self._plogit(name, p1, p2, e, sc, ar), k) for p2, e, k in _dedupe(others)]
            for a, ka in tl:
                for b, kb in ol:
                    diff = Q(a.form - b.form, a.err + b.err)
                    lo, _, at, _ = diff.form.bounds(d)
                    yield (lo - diff.err - need, f"decoder {name}: the node it points at against one "
                           f"{'above' if order > 0 else 'below'} it", {"scenario": sc, "probe": name, "at": at},
                           ka * kb)

    def _plogit(self, name: str, p1, p2, edge: Edge, sc: Scenario, ar: Arith) -> Q:
        ef = None
        if self.lm.reads_edges(name):
            ef = self.lm.E(sc.recv, sc.recv, edge, ar, self.hint_err)
        return self.lm.pointer_logit(name, p1, p2, ef, ar)

    def _edges_ji(self, d: Domain, ns: str, target: bool, name: str = "") -> list[Edge]:
        """Edges j -> i for the pointer decoder's W_e E_ji; one stand-in when it reads none."""
        if name and not self.lm.reads_edges(name):
            return [Edge("nbr", False, self.prog.edge_inputs("nbr", f"{ns}0", d))]
        kinds = [("nbr", False), ("nbr", True)] + ([] if target else [("non", False), ("self", False), ("self", True)])
        return [Edge(k, par, self.prog.edge_inputs(k, f"{ns}{i}", d)) for i, (k, par) in enumerate(kinds)]

    def _candidates(self, sc: Scenario):
        """Candidate nodes j for a pointer decoder: any class before and after the step
        (a relaxation of j's own round), its id given."""
        prog = self.prog
        epoch = sc.recv.cls.epoch

        def gen(d: Domain, ns: str, x: Form):
            k = 0
            for c1 in prog.classes(epoch):
                for c2 in prog.classes("run"):
                    if c1.start != c2.start:
                        continue
                    a = prog.node(c1, f"{ns}{k}a", d)
                    b = prog.node(c2, f"{ns}{k}b", d)
                    k += 1
                    a = a.substitute({f"{a.ns}.x": x})
                    b = b.substitute({f"{b.ns}.x": x})
                    ar = Arith(d)
                    hj = self.lm.V(a, ar, self.hint_err) + self.lm.H(a, self.errs) + self.lm.H(b, self.errs)
                    yield c1, hj, x

        return gen

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


@no_type_check
def _carriers(K: Form) -> list[str]:
    vs = list(K.coef)
    return [v for v in vs if not v.endswith(".x")] + [v for v in vs if v.endswith(".x")]


@no_type_check
def _solve(K: Form, var: str, target: Form) -> Form:
    """The value of ``var`` that makes ``K`` equal ``target``."""
    c = K.coef[var]
    rest = Form(K.const, {k: v for k, v in K.coef.items() if k != var})
    return (target - rest) * (1.0 / c)


@no_type_check
def _apply(f: Form, subs: dict) -> Form:
    for k, v in subs.items():
        f = f.substitute(k, v)
    return f


@no_type_check
def _dedupe(items):
    """(p2, edge) pairs with identical read-outs merged: (p2, edge, how many)."""
    seen, out = {}, []
    for p2, e in items:
        key = tuple((tuple(sorted(q.form.coef.items())), q.form.const, q.err) for q in p2) + (e.kind, e.parent)
        if key in seen:
            out[seen[key]][2] += 1
        else:
            seen[key] = len(out)
            out.append([p2, e, 1])
    return out


@no_type_check
def _pair_text(recv: Node, w: Point, l: Point, rel: str, at: dict) -> str:
    how = {"free": "any keys", "sep": "its key lower by at least the resolution", "tie-free": "equal keys",
           "tie-id": "equal keys, its id lower"}[rel]
    names = {"i": "receiver", w.node.ns: "preferred", l.node.ns: "other"}
    plain = {"kw": "key", "dk": "key difference", "dx": "id difference"}

    def name(v: str) -> str:
        if v in plain:
            return plain[v]
        ns, _, field_ = v.partition(".")
        return f"{names.get(ns, ns)} {field_}" if field_ else names.get(ns, ns)

    vals = ", ".join(f"{name(k)} = {v:.6g}" for k, v in sorted(at.items()))
    return (f"receiver: {recv.cls.describe()}; preferred: {w.describe()} ({how}); other: {l.describe()}"
            + (f"; at {vals}" if vals else ""))

