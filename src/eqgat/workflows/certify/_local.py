"""The model's side of a local configuration: its real weights, read from the pytree, and
the float32 computations of one step on a receiver, a sender and their edge (``Q`` values,
``_forms``), in the order ``eqgat.nn`` performs them:

- features: ``V_j`` = Σ encoders of the node's inputs (its id, the start flag) and fed-back
  node hints; ``E_ij`` = Σ encoders of the edge inputs, plus each fed-back pointer hint as
  a term projected through each reader (``eqgat.nn._edges.EdgeSum``);
- the logit ``a_ij = Σ_k ω_k σ(ζ_k) + ω_bias + β``, ``ζ = W_in C_i + b + W_out C_j + b +
  W_edge E_ij + b + W_meta g + b`` (eqs. 5-8), ``β = 1e9·(A_ij - 1)``;
- the update ``relu(Σ_j α_ij ν_j (+ Σ_j α_ij W_info E_ij) + W_skip C_i + b)`` (eqs. 4, 9-13);
- the decoders: node read-outs of ``h = [V | H | H']`` and eq. 27-29's pointer decoder.
"""

import math
from dataclasses import dataclass
from typing import no_type_check  # hot pure-Python loops: no per-call checks (package docstring)

import numpy as np

from ...nn import ADJACENCY_BIAS, LEAKY_SLOPE, PointerDecoder
from ...probes import Location, Stage, Type
from ._forms import Arith, Q
from ._states import Edge, Node, Program


class Unsupported(ValueError):
    """The model has a part the certificate does not model (it fails closed on it)."""


def _np(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _linear(layer) -> tuple[np.ndarray, np.ndarray]:
    return _np(layer.weight), _np(layer.bias)


def _nonzero(*arrays) -> bool:
    return any(np.any(a != 0) for a in arrays)


_NONZERO: dict = {}


def _row(W: np.ndarray, k: int, xs: list) -> list:
    """The (weight, input) pairs of row k of W with a non-zero weight."""
    key = (id(W), W.shape)
    nz = _NONZERO.get(key)
    if nz is None or nz[0] is not W:
        nz = _NONZERO[key] = (W, [np.flatnonzero(W[r]).tolist() for r in range(W.shape[0])])
    return [(W[k, c], xs[c]) for c in nz[1][k]]


@no_type_check
@dataclass
class EdgeFeat:
    """E_ij as the model keeps it: the dense base (edge inputs) and the fed-back pointer
    hints as terms ``(raw, encoder)``."""

    base: list[Q]
    terms: list[tuple[Q, tuple[np.ndarray, np.ndarray]]]


@no_type_check
class LocalModel:
    """A compiled graph-program model, read for local evaluation (module docstring)."""

    def __init__(self, model, prog: Program):
        self.model, self.prog = model, prog
        self.problems: list[str] = []
        proc = model.processor
        self.s = model.hidden_size
        if proc.nb_heads != 1:
            self.problems.append(f"{proc.nb_heads} attention heads (graph programs compile to one)")
        if proc.layer_norm is not None:
            self.problems.append("a layer norm after the update")
        if proc.B is not None:
            self.problems.append("a pre-attention bias B (the paper's mechanism)")
        if proc.full_attention:
            self.problems.append("full attention (non-edges are attended)")
        if any(getattr(x, "dtype", None) == np.float64 for x in (proc.omega,)):
            self.problems.append("float64 weights (the error model is float32's)")
        self.W = {k: _linear(getattr(proc, k)) for k in ("W_val", "W_skip", "W_out", "W_in", "W_edge", "W_meta")}
        self.W_info = _linear(proc.W_info) if proc.W_info is not None else None
        self.omega = _np(proc.omega)[0]
        self.omega_bias = float(_np(proc.omega_bias)[0])
        spec = {p.name: p for p in model.spec}
        self.spec = spec
        plan = prog.plan
        program = plan.program
        self.idx_probe, self.start_probe = program.idx, plan.start
        # which probes feed back what (component of the program)
        self.hint_comp = {p: c for p, c in program.probes.items() if spec[p].stage == Stage.HINT}
        self.node_inputs, self.edge_inputs, self.node_hints, self.edge_hints = [], [], [], []
        self.pointer_hints: list[str] = []
        for name, enc in model.encoders.items():
            p = spec[name]
            W, b = _np(enc.W.weight), _np(enc.W.bias)
            used = _nonzero(W, b)
            W = W[:, 0] if W.shape[1] == 1 else W
            if p.stage == Stage.INPUT:
                if p.location == Location.NODE and name in (self.idx_probe, self.start_probe):
                    self.node_inputs.append((name, W, b))
                elif p.location == Location.EDGE and p.type in (Type.MASK, Type.SCALAR):
                    self.edge_inputs.append((name, W, b))
                elif used:
                    self.problems.append(f"input {name!r} ({p.location} {p.type}) is read")
                continue
            # a hint fed back: its soft decoded value
            comp = self.hint_comp.get(name)
            if p.type == Type.POINTER and p.location == Location.NODE and comp in prog.pointers:
                self.pointer_hints.append(name)  # adds its edges to the attention (clean: graph edges)
            if not used:
                continue
            if p.type == Type.POINTER and comp is not None and comp == plan.parent:
                self.edge_hints.append((name, W, b))
            elif p.type == Type.MASK and p.location == Location.NODE and comp == plan.flag:
                self.node_hints.append((name, W, b))
            else:
                self.problems.append(f"fed-back hint {name!r} ({p.type}) is read")
        if any(spec[p].location == Location.GRAPH for p in model.encoders if spec[p].stage == Stage.INPUT):
            self.problems.append("graph inputs")
        prog.edge_probes = tuple(n for n, _, _ in self.edge_inputs)
        prog.edge_types = {n: ("mask" if spec[n].type == Type.MASK else "scalar") for n in prog.edge_probes}
        if not any(t == "mask" for t in prog.edge_types.values()):
            self.problems.append("no edge mask input (the attention would not see the graph's edges)")
        self.decoders = dict(model.decoders)
        # each decoder's weights as float64 arrays, read once (the caches key on them)
        self.dec_W = {name: {f: _linear(getattr(dec, f)) for f in ("W", "W1", "W2", "W_e", "W3") if hasattr(dec, f)}
                      for name, dec in model.decoders.items()}

    # ------------------------------------------------------------------ features

    def V(self, node: Node, ar: Arith, hint_err: float) -> list[Q]:
        """The node features of ``node`` (its inputs, then fed-back node hints)."""
        raws = []
        for name, W, b in self.node_inputs:
            raw = Q(node.x) if name == self.idx_probe else Q.const(1.0 if node.cls.start else 0.0)
            raws.append((W, b, raw))
        err = 0.0 if node.cls.epoch == "init" else hint_err
        for name, W, b in self.node_hints:
            raws.append((W, b, Q.const(1.0 if node.cls.flag else 0.0, err)))
        one = Q.const(1.0)
        return [ar.lin([t for W, b, raw in raws for t in ((W[c], raw), (b[c], one)) if t[0] != 0.0])
                for c in range(self.s)]

    def E(self, recv: Node, sender: Node, edge: Edge, ar: Arith, hint_err: float) -> EdgeFeat:
        """E_ij (i = ``recv``, j = ``sender``) along ``edge``."""
        one = Q.const(1.0)
        base = []
        for c in range(self.s):
            ts = []
            for name, W, b in self.edge_inputs:
                ts += [(W[c], Q(edge.inputs[name])), (b[c], one)]
            base.append(ar.lin(ts))
        # the fed-back parent pointer's entry [pi_i = j]: exactly one-hot (the ground truth at
        # step 0; later its decoder's margin is at least ONE_HOT logits: exp underflows to 0)
        hint_terms = [(Q.const(1.0 if edge.parent else 0.0), (W, b)) for name, W, b in self.edge_hints]
        return EdgeFeat(base, hint_terms)

    def project(self, ef: EdgeFeat, layer: tuple[np.ndarray, np.ndarray], ar: Arith) -> list[Q]:
        """affine(layer, E) as ``EdgeSum.project`` computes it: the cached projection of
        the base, plus per hint term raw·(W @ W_k) + W @ b_k (float32 matrix products)."""
        W, b = layer
        one = Q.const(1.0)
        out = []
        for k in range(W.shape[0]):
            q = ar.lin(_row(W, k, ef.base) + [(b[k], one)])
            parts = [q]
            for raw, (Wk, bk) in ef.terms:
                m, mb = self._products(W, Wk, bk, ar)
                parts.append(self._times(raw, m[k], ar))
                parts.append(mb[k])
            out.append(ar.add(*parts) if len(parts) > 1 else q)
        return out

    def _products(self, W, Wk, bk, ar: Arith) -> tuple[list[Q], list[Q]]:
        """(W @ W_k, W @ b_k) row by row as computed constants (float32 matrix products:
        exact values with their rounding bound), once per pair of layers."""
        cache = self.__dict__.setdefault("_product_cache", {})
        key = (id(W), id(Wk), id(bk))
        if key not in cache:
            consts = lambda v: [Q.const(x) for x in v]  # noqa: E731
            cw, cb = consts(Wk), consts(bk)
            cache[key] = ([ar.lin(_row(W, k, cw)) for k in range(W.shape[0])],
                          [ar.lin(_row(W, k, cb)) for k in range(W.shape[0])])
        return cache[key]

    @staticmethod
    def _times(q: Q, m: Q, ar: Arith) -> Q:
        """q·m for a computed constant m (its own rounding error ``m.err``)."""
        c = m.form.const
        base = ar.lin([(c, q)]) if c != 0.0 else Q.const(0.0)
        return Q(base.form, base.err + m.err * q.maxabs(ar.dom))

    def H(self, node: Node, errs: dict) -> list[Q]:
        """The hidden state of ``node``: its slots (the contract) with their error bounds."""
        H = [Q.const(0.0) for _ in range(self.s)]
        for row, value, _ in self.prog.slots(node.cls, node.vals, node.delta, node.x):
            H[row] = Q(value, errs.get((node.cls, row), 0.0))
        return H

    def C(self, node: Node, ar: Arith, errs: dict, hint_err: float) -> list[Q]:
        return self.V(node, ar, hint_err) + self.H(node, errs)

    # ------------------------------------------------------------------ one step

    def logit(self, Ci: list[Q], Cj: list[Q], ef: EdgeFeat, attended: bool, ar: Arith) -> Q:
        """a_ij + β_ij (eqs. 5-8)."""
        one = Q.const(1.0)
        z = []
        W_in, b_in = self.W["W_in"]
        W_out, b_out = self.W["W_out"]
        W_meta, b_meta = self.W["W_meta"]
        z_edge = self.project(ef, self.W["W_edge"], ar)
        for k in range(self.s):
            if self.omega[k] == 0.0:
                z.append(None)
                continue
            zin = ar.lin(_row(W_in, k, Ci) + [(b_in[k], one)])
            zout = ar.lin(_row(W_out, k, Cj) + [(b_out[k], one)])
            zmeta = Q.const(b_meta[k])  # g = 0: no graph inputs
            z.append(ar.add(zin, zout, z_edge[k], zmeta))
        terms = [(self.omega[k], ar.sigma(z[k], LEAKY_SLOPE)) for k in range(self.s) if z[k] is not None]
        if self.omega_bias != 0.0:
            terms.append((self.omega_bias, one))
        if not attended:
            terms.append((-ADJACENCY_BIAS, one))  # β = c·(A - 1) of a non-edge (eq. 8)
        return ar.lin(terms)

    def values(self, Cj: list[Q], ar: Arith) -> list[Q]:
        """ν_j = W_val C_j + b (eq. 4)."""
        W, b = self.W["W_val"]
        one = Q.const(1.0)
        return [ar.lin(_row(W, k, Cj) + [(b[k], one)]) for k in range(self.s)]

    def info(self, ef: EdgeFeat, ar: Arith) -> list[Q] | None:
        """W_info E_ij + b (eq. 11), or None without W_info."""
        return None if self.W_info is None else self.project(ef, self.W_info, ar)

    def skip(self, Ci: list[Q], ar: Arith) -> list[Q]:
        """W_skip C_i (its bias is added after)."""
        W, _ = self.W["W_skip"]
        return [ar.lin(_row(W, k, Ci)) for k in range(self.s)]

    def pre(self, selected: list[Q], info: list[Q] | None, skip: list[Q], ar: Arith) -> list[Q]:
        """The update's pre-activation: (Σα ν + Σα W_info E) + W_skip C_i + b_skip."""
        _, b = self.W["W_skip"]
        one = Q.const(1.0)
        out = []
        for k in range(self.s):
            sel = selected[k] if info is None else ar.add(selected[k], info[k])
            out.append(ar.lin([(1.0, sel), (1.0, skip[k]), (b[k], one)]))
        return out

    # ------------------------------------------------------------------ decoders

    def node_decoder(self, name: str, h: list[Q], ar: Arith) -> Q:
        W, b = self.dec_W[name]["W"]
        one = Q.const(1.0)
        return ar.lin(_row(W, 0, h) + [(b[0], one)])

    def pointer_parts(self, name: str, h: list[Q], ar: Arith) -> tuple[list[Q], list[Q]]:
        """(p1, p2) of eqs. 27-28 for a node with read-out input ``h``."""
        one = Q.const(1.0)
        out = []
        for f in ("W1", "W2"):
            W, b = self.dec_W[name][f]
            out.append([ar.lin(_row(W, k, h) + [(b[k], one)]) for k in range(W.shape[0])])
        return out[0], out[1]

    def pointer_logit(self, name: str, p1: list[Q], p2: list[Q], ef_ji: EdgeFeat | None, ar: Arith) -> Q:
        """logit_ij = W3·max(p1_i, p2_j + W_e E_ji) + b3 (eq. 29); simplified: -c·|p1 - p2|."""
        dec: PointerDecoder = self.decoders[name]
        if dec.simplify:
            from ...nn import SIMPLE_POINTER_SCALE

            d = ar.add(p1[0], Q(-p2[0].form, p2[0].err))
            m = ar.vmax(d, Q(-d.form, d.err))
            return ar.lin([(-SIMPLE_POINTER_SCALE, m)])
        W3, b3 = self.dec_W[name]["W3"]
        pe = self.project(ef_ji, self.dec_W[name]["W_e"], ar) if ef_ji is not None else None
        one = Q.const(1.0)
        terms = []
        for k in range(len(p1)):
            if W3[0, k] == 0.0:
                continue
            rhs = p2[k] if pe is None else ar.add(p2[k], pe[k])
            terms.append((W3[0, k], ar.vmax(p1[k], rhs)))
        return ar.lin(terms + [(b3[0], one)])

    def reads_edges(self, name: str) -> bool:
        return not self.decoders[name].simplify and _nonzero(*self.dec_W[name]["W_e"])


#: A softmax entry this many logits below the row's maximum is exactly 0 in float32
#: (e^-104 < 2^-150, below half the least subnormal; XLA also flushes subnormals to 0),
#: so a fed-back pointer whose decoder clears it is exactly one-hot.
ONE_HOT = 104.0


def need_gap(n: int, leak: float) -> float:
    """The least logit gap that leaves the n - 1 losers at most ``leak`` of the softmax
    mass (exp within 4 ulp)."""
    return math.log(max(n - 1, 1) * (1 + 8 * 2.0 ** -24) / leak)
