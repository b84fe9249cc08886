"""Obligations 1 and 2, the selection margin and the softmax leak: every ordered pair of
senders whose order the program's outcome needs, its least logit gap over the pair's box."""

from collections.abc import Iterator
from typing import no_type_check  # hot pure-Python loops: no per-call checks (package docstring)

from ._forms import Arith, Domain, Form, Q
from ._local import ONE_HOT
from ._obligation import Obligation, apply_all, solve
from ._states import Node, Point


@no_type_check
class SelectionMargins:
    """``Certifier``'s obligations 1 and 2 (it supplies ``prog``, ``pre``, ``lm``, ``G``,
    ``N``, ``receivers``, ``_key_var``, ``_C``, ``key_hi``, ``spacing`` and ``hint_err``)."""

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
        Kw = apply_all(prog.key(w), subs)
        if rel == "free":
            target = None
        elif rel == "sep":
            d.declare("dk", self.spacing, self.pre.value_bound + self.pre.weight_bound if not prog.id_keyed else 1.0,
                      None if prog.id_keyed else self.pre.grid)
            target = Kw + Form.var("dk")
        else:
            target = Kw
        if target is not None:
            Kl = apply_all(prog.key(l), subs)
            c = next((v for v in _carriers(Kl) if v not in subs), None)
            if c is not None:
                subs[c] = solve(Kl, c, target)
            else:
                cw = next((v for v in _carriers(Kw)), None)
                if cw is None:
                    diff = Kl - target
                    lo, hi, _, _ = diff.bounds(d)
                    if not (lo <= 0.0 <= hi if rel != "sep" else hi >= 0.0):
                        return None
                elif rel == "sep":  # solve on the winner's side: kw = K_l - dk
                    subs[cw] = solve(Kw, cw, Kl - Form.var("dk"))
                else:
                    subs[cw] = solve(Kw, cw, Kl)
        if rel == "tie-id":
            d.declare("dx", self.pre.id_spacing, 1.0)
            xl = apply_all(l.node.x, subs)
            xv = next(iter(xl.coef), None)
            if xv is None:
                return None
            subs[xv] = solve(xl, xv, apply_all(w.node.x, subs) + Form.var("dx"))
        for var, f in subs.items():  # a relation no assignment of the box satisfies: not realisable
            if var in d:
                lo, hi, _, _ = apply_all(f, subs).bounds(d)
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
        key = apply_all(self.prog.key(p), subs)
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


@no_type_check
def _carriers(K: Form) -> list[str]:
    vs = list(K.coef)
    return [v for v in vs if not v.endswith(".x")] + [v for v in vs if v.endswith(".x")]


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
