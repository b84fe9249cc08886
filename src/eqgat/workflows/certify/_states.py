"""The program's side of a local configuration: node classes, their hidden-state slots
(the compiler's slot contract, read from the ``Layout``), candidate senders (*points*) and
what the program's round does with them (*scenarios*).

A node's **class** is its discrete state: the epoch (``init``: step 0, H = 0 and the hints
fed are the ground truth; ``run``: every later step), whether it is a start node, its
flag, which case produced its components (``init``, ``self``, ``take``, ``keep``) and, for
an incumbent program, whether its value fell in the last step. Everything else (its id,
pointer values, scalar values, how much it fell, edge weights) is a variable of a box.

The **slot contract** (``eqgat.compiler``'s general mechanism; ``Direction.role``): a
flag's ``value`` slot holds the flag of a non-start node; a component's ``take`` slot
holds its value when it was taken from a selected sender, ``self`` the node's own id
(a pointer with no candidate, or a start node), ``keep`` its kept value, ``delta`` how
much an incumbent's value fell. Every other slot is 0. A slot is *on* when the round's
case writes it (its gate is open) and *off* when its gate is closed: an off slot must be
exactly 0 (a closed ReLU), an on slot the program's value up to the error bound.
"""

from dataclasses import dataclass, field
from typing import no_type_check  # hot pure-Python loops: no per-call checks (package docstring)

from ...lang import Pointer, Scalar
from ._forms import Domain, Form
from ._precondition import Precondition

EPOCHS = ("init", "run")


@no_type_check
@dataclass(frozen=True)
class NodeClass:
    """A node's discrete state (module docstring)."""

    epoch: str
    start: bool
    flag: bool
    case: str
    fell: bool = False

    def describe(self) -> str:
        if self.epoch == "init":
            what = "start node" if self.start else "node"
            return f"{what} at step 0"
        if self.start:
            return "start node"
        if not self.flag:
            return "unreached node"
        how = {"take": "took its values last step", "keep": "kept its values"}[self.case]
        return f"reached node ({how}{', its value fell' if self.fell else ''})"


@no_type_check
@dataclass
class Node:
    """A node of a local configuration: its class, id ``x``, each non-flag component's
    program value (``vals``), how much its value fell (``delta``), all as forms."""

    cls: NodeClass
    ns: str
    x: Form
    vals: dict[str, Form]
    delta: Form

    def substitute(self, subs: dict[str, Form]) -> "Node":
        def s(f: Form) -> Form:
            for k, v in subs.items():
                f = f.substitute(k, v)
            return f

        return Node(self.cls, self.ns, s(self.x), {k: s(v) for k, v in self.vals.items()}, s(self.delta))


@no_type_check
@dataclass
class Edge:
    """The edge from a sender to the receiver: ``kind`` (``self``, ``nbr``: a neighbour,
    ``non``: no edge), the fed-back parent pointer's one-hot entry ``parent`` (the
    receiver's pointer is this sender), and the edge inputs' values."""

    kind: str
    parent: bool
    inputs: dict[str, Form] = field(default_factory=dict)
    loop: bool = False

    @property
    def attended(self) -> bool:
        return self.kind != "non"

    def substitute(self, subs: dict[str, Form]) -> "Edge":
        def s(f: Form) -> Form:
            for k, v in subs.items():
                f = f.substitute(k, v)
            return f

        return Edge(self.kind, self.parent, {k: s(v) for k, v in self.inputs.items()}, self.loop)

    def describe(self) -> str:
        if self.kind == "self":
            return "itself" + (" (self-loop)" if self.loop else "") + (" (its pointer)" if self.parent else "")
        if self.kind == "non":
            return "a non-neighbour"
        return "its parent" if self.parent else "a neighbour"


@no_type_check
@dataclass
class Point:
    """A candidate sender of a receiver: a node and the edge it sends along."""

    node: Node
    edge: Edge
    role: str = ""

    @property
    def is_self(self) -> bool:
        return self.edge.kind == "self"

    def substitute(self, subs: dict[str, Form]) -> "Point":
        return Point(self.node.substitute(subs), self.edge.substitute(subs), self.role)

    def describe(self) -> str:
        if self.is_self:
            return self.edge.describe()
        return f"{self.edge.describe()}: {self.node.cls.describe()}"


@no_type_check
class Program:
    """A compiled graph program's semantics for local configurations (module docstring)."""

    def __init__(self, plan, layout, pre: Precondition, *, weighted: bool):
        self.plan, self.lay, self.pre, self.weighted = plan, layout, pre, weighted
        prog = plan.program
        self.hidden = dict(prog.hidden)
        self.comps = [n for n, k, _ in plan.updates if k != "flag"]
        self.pointers = [n for n in self.comps if isinstance(self.hidden[n], Pointer)]
        self.scalars = [n for n in self.comps if isinstance(self.hidden[n], Scalar)]
        self.expr_comp = next((n for n, k, _ in plan.updates if k == "expr"), None)
        self.parent_comp = plan.parent
        self.keep, self.incumbent = plan.keep, plan.incumbent
        # the key: the selected expression's parts read from the sender and the edge
        from ...algorithms import get_spec
        from ...probes import Type

        start = {p.name: p for p in get_spec(prog.algorithm)}.get(plan.start)
        self.single_start = start is not None and start.type == Type.MASK_ONE
        self.key_other = dict(plan.expr_other)
        self.key_edge = dict(plan.expr_edge)
        self.id_keyed = not plan.scalar_expr

    # ------------------------------------------------------------------ classes

    def classes(self, epoch: str) -> list[NodeClass]:
        """Every node class of an epoch."""
        if epoch == "init":
            return [NodeClass("init", True, True, "init"), NodeClass("init", False, False, "init")]
        out = [NodeClass("run", True, True, "self"), NodeClass("run", False, False, "self")]
        if self.keep:
            out += [NodeClass("run", False, True, "take"), NodeClass("run", False, True, "keep")]
        elif self.incumbent:
            out += [NodeClass("run", False, True, "take", False), NodeClass("run", False, True, "take", True)]
        else:
            out += [NodeClass("run", False, True, "take")]
        return out

    def node(self, cls: NodeClass, ns: str, dom: Domain) -> Node:
        """A node of class ``cls`` with fresh variables ``ns.*`` declared in ``dom``."""
        pre = self.pre
        x = Form.var(dom.declare(f"{ns}.x", 0.0, pre.x_max))
        vals = {}
        for c in self.comps:
            if cls.case in ("take", "keep"):
                if c in self.pointers:
                    vals[c] = Form.var(dom.declare(f"{ns}.{c}", 0.0, pre.x_max))
                else:
                    g = pre.grid
                    vals[c] = Form.var(dom.declare(f"{ns}.{c}", 0.0, pre.value_bound - g, g))
            else:  # self / init: pointers at the node itself, scalars 0
                vals[c] = x if c in self.pointers else Form(0.0)
        delta = Form(0.0)
        if cls.fell:
            g = pre.grid
            delta = Form.var(dom.declare(f"{ns}.delta", g, pre.value_bound - g, g))
        return Node(cls, ns, x, vals, delta)

    # ------------------------------------------------------------------ edges and points

    def edge_inputs(self, kind: str, ns: str, dom: Domain, loop: bool = False) -> dict[str, Form]:
        """The edge inputs' values along an edge of ``kind`` (``self``: with ``loop``)."""
        out = {}
        for name in self.edge_probes:
            typ = self.edge_types[name]
            if typ == "mask":
                out[name] = Form(0.0 if kind == "non" else 1.0)
            else:  # a scalar edge input: the weight (unweighted: 1 on edges)
                present = kind == "nbr" or (kind == "self" and loop)
                if not present:
                    out[name] = Form(0.0)
                elif self.weighted:
                    g = self.pre.grid
                    out[name] = Form.var(dom.declare(f"{ns}.{name}", g, self.pre.weight_bound - g, g))
                else:
                    out[name] = Form(1.0)
        return out

    #: The edge inputs the model reads and their kinds (``mask`` or ``scalar``): set by
    #: ``LocalModel`` from the model's encoders.
    edge_probes: tuple = ()
    edge_types: dict = {}

    def points(self, recv: Node, dom: Domain, ns_prefix: str = "p") -> list[Point]:
        """Every candidate sender of ``recv`` (each with fresh variables): each class of
        its epoch as a neighbour (and as its parent, when it can be one) and as a
        non-neighbour, and the receiver itself (with and without a self-loop)."""
        out = []
        k = 0
        for cls in self.classes(recv.cls.epoch):
            if self.single_start and cls.start and recv.cls.start:
                continue  # one start node: the receiver is it
            for kind, parent in (("nbr", False), ("nbr", True), ("non", False)):
                if parent and not (self.can_have_parent(recv.cls) and cls.flag):
                    continue
                ns = f"{ns_prefix}{k}"
                k += 1
                node = self.node(cls, ns, dom)
                out.append(Point(node, Edge(kind, parent, self.edge_inputs(kind, ns, dom)), ns))
        for loop in self.loops():
            ns = f"{ns_prefix}{k}"
            k += 1
            out.append(Point(recv, Edge("self", self.points_at_self(recv.cls), self.edge_inputs("self", ns, dom, loop),
                                        loop), ns))
        return out

    def loops(self) -> tuple[bool, ...]:
        """Self-loop cases: none (the precondition: graphs without self-loops, as dm-clrs'
        samplers draw them)."""
        return (False,)

    def two_starts(self, a: Point, b: Point) -> bool:
        """Whether two senders would both be start nodes (there is one)."""
        return self.single_start and a.node.cls.start and b.node.cls.start and not (a.is_self or b.is_self)

    def can_have_parent(self, cls: NodeClass) -> bool:
        """Whether a neighbour can be the receiver's fed-back pointer (its parent)."""
        return cls.epoch == "run" and not cls.start and cls.flag and cls.case in ("take", "keep") \
            and self.parent_comp is not None

    def points_at_self(self, cls: NodeClass) -> bool:
        """Whether the receiver's fed-back pointer is itself (parent_ii = 1)."""
        return cls.case in ("self", "init")

    def masked(self, node: Node) -> bool:
        return node.cls.flag

    def eligible(self, recv: Node, p: Point) -> bool:
        """A program candidate: a masked sender along an attended edge."""
        return p.edge.attended and self.masked(p.node)

    def bonus(self, p: Point) -> bool:
        """The unchanged parent (the fed-back pointer, a sender whose value did not fall):
        the model gives it the parent bonus, so it wins exact ties (incumbent programs)."""
        return self.incumbent and p.edge.parent and not p.node.cls.fell

    def key(self, p: Point) -> Form:
        """The selected expression of sender ``p`` (its key)."""
        f = Form(0.0)
        for comp, c in self.key_other.items():
            f = f + (p.node.x if comp == "idx" else p.node.vals[comp]) * c
        for e, c in self.key_edge.items():
            f = f + p.edge.inputs[e] * c
        return f

    def carrier(self, p: Point) -> str | None:
        """The variable of ``p``'s key that a pair relation is solved for (a scalar value
        first, then an edge weight, then the id), or None (a constant key)."""
        k = self.key(p)
        order = [v for v in k.coef if not v.endswith(".x")] + [v for v in k.coef if v.endswith(".x")]
        return order[0] if order else None

    # ------------------------------------------------------------------ the round

    def kind(self, cls: NodeClass) -> str:
        """How the program treats a receiver: ``frozen`` (start nodes, kept nodes: the
        selection only has to pick a masked sender), ``select`` (it takes the selected
        sender's values) or ``incumbent`` (it moves only for a strictly better key)."""
        if cls.start or (self.keep and cls.flag):
            return "frozen"
        if self.incumbent and cls.flag:
            return "incumbent"
        return "select"

    def may_be_empty(self, cls: NodeClass) -> bool:
        """Whether the receiver can have no masked candidate (it is not masked itself)."""
        return not cls.flag

    def winners(self, recv: Node, pts: list[Point], dom: Domain) -> list[Point]:
        """The points the selection may pick: every eligible point whose key can be no
        worse than the receiver's own when the receiver is a candidate itself, and never
        the receiver under an incumbent (its key equals its unchanged parent's, which keeps
        ties, or exceeds a changed parent's)."""
        out = [p for p in pts if self.eligible(recv, p)]
        if self.kind(recv.cls) == "incumbent":
            return [p for p in out if not p.is_self]
        own = [p for p in out if p.is_self]
        if own:
            top = max(self.key(p).bounds(dom)[1] for p in own)
            out = [p for p in out if p.is_self or self.key(p).bounds(dom)[0] <= top]
        return out

    def next_class(self, recv: NodeClass, winner: Point | None, moved: bool) -> NodeClass:
        """The receiver's class after the round (``winner`` None: no masked candidate)."""
        if recv.start:
            return NodeClass("run", True, True, "self")
        if winner is None:
            return NodeClass("run", False, False, "self")
        if self.keep and recv.flag:
            return NodeClass("run", False, True, "keep")
        return NodeClass("run", False, True, "take", bool(moved and self.incumbent and recv.flag))

    def next_values(self, recv: Node, winner: Point | None) -> dict[str, Form]:
        """The receiver's component values after the round."""
        if recv.cls.start or winner is None or (self.keep and recv.cls.flag):
            return {c: (recv.x if (c in self.pointers and recv.cls.case in ("self", "init")) else v)
                    for c, v in recv.vals.items()}
        out = {}
        for name, kind, detail in self.plan.updates:
            if kind == "flag":
                continue
            if kind == "idx":
                out[name] = winner.node.x
            elif kind == "expr":
                out[name] = self.key(winner)
            else:  # copy
                out[name] = winner.node.vals[detail[0]]
        return out

    # ------------------------------------------------------------------ slots

    def slots(self, cls: NodeClass, vals: dict[str, Form], delta: Form, x: Form) -> list[tuple[int, Form, bool]]:
        """``(row, value, on)`` of each named hidden slot of a node of class ``cls`` with
        component values ``vals``: the slot contract (module docstring)."""
        out = []
        for d, row in zip(self.lay.H, self.lay.H_rows):
            if cls.case == "init":
                out.append((row, Form(0.0), False))
                continue
            if d.role == "value":
                on = cls.flag and not cls.start
                out.append((row, Form(1.0 if on else 0.0), True))
            elif d.role == "delta":
                out.append((row, delta if cls.fell else Form(0.0), cls.flag or cls.start))
            elif d.role in ("take", "keep"):
                on = cls.case == d.role
                out.append((row, vals[d.component] if on else Form(0.0), on))
            elif d.role == "self":
                on = cls.case == "self"
                out.append((row, x if on else Form(0.0), on))
            else:
                raise ValueError(f"slot {d} ({d.role}) is outside what the certificate models")
        return out
