"""Obligation 4, the decoders' margins: every decoded probe over every scenario's
transition (masks by their sign, scalars within verify's tolerance, pointers against every
other node)."""

from typing import no_type_check  # hot pure-Python loops: no per-call checks (package docstring)

from ...probes import Stage, Type
from ._forms import Arith, Domain, Form, Q
from ._local import ONE_HOT
from ._obligation import ATOL, RTOL, Obligation, Scenario
from ._states import Edge, Node


@no_type_check
class DecoderMargins:
    """``Certifier``'s obligation 4 (it supplies ``prog``, ``pre``, ``lm``, ``G``,
    ``errs``, ``hint_err`` and ``scenarios_cache``)."""

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
