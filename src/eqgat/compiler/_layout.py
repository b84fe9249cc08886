"""Stage 2: the named directions (tracr's basis directions) of the node features V, the
edge features E, the hidden state H and the attention features ζ."""

from dataclasses import dataclass

from ..lang import GraphProgram, Pointer
from ._analyse import Plan, analyse


#: Slots of the paper's mechanism that enter their component's value with sign -1.
_SUBTRACTED = ("fall", "keep:x+z", "keep:x-z")
#: The mechanisms: today's (state kept by ReLU gates, valid at every size) and the paper's
#: (a node with nothing to update attends to itself through B = k·I, at one size N).
MECHANISMS = ("general", "paper")


@dataclass(frozen=True)
class Direction:
    """A named direction of the hidden state: one slot of a component (tracr's
    ``BasisDirection``). ``role`` is the case the slot holds:

    - ``value``: a flag's only slot;
    - ``take`` / ``self`` / ``keep``: the value taken from the selected sender, the
      receiver's own id (pointers with no candidate), the kept value;
    - ``take+`` / ``take-`` / ``keep+`` / ``keep-``: an offset pointer ``x_i - π_i``,
      split by sign;
    - ``delta``: how much the component fell in the last step (not part of its value).

    The paper's mechanism (``mechanism="paper"``) adds: ``fall`` (the same fall, part of
    the value with sign -1: kept d_i minus the fall is min(d_i, c_selected)); ``keep:x``,
    ``keep:x+z``, ``keep:x-z``, ``keep:pi+z``, ``keep:pi-z`` (a visited receiver's pointer:
    the selected sender's id unless the receiver selected itself, then its own pointer;
    z = x_selected - x_i is 0 exactly when it did); and ``idx:self`` (the node's own id in
    H, listing 2's ``idx = self.idx``).
    """

    component: str
    role: str

    @property
    def is_value(self) -> bool:
        return self.role != "delta"

    @property
    def sign(self) -> float:
        """-1 for the ``+`` slot of an offset pointer (π = x - (+) + (-)) and for the slots
        the paper's mechanism subtracts, else +1."""
        return -1.0 if self.role.endswith("+") or self.role in _SUBTRACTED else 1.0

    @property
    def is_offset(self) -> bool:
        return self.role.endswith(("+", "-"))

    def __str__(self) -> str:
        return self.component if self.role == "value" else f"{self.component}:{self.role}"

    @classmethod
    def parse(cls, text: str) -> "Direction":
        """The inverse of ``str``: ``"pi:take+"`` -> ``Direction("pi", "take+")``."""
        component, _, role = text.partition(":")
        return cls(component, role or "value")


@dataclass(frozen=True)
class Layout:
    """Stage 2: named directions of V, E, H and of the attention features ζ.

    With one head (``heads`` empty: graph programs), the k-th entry of H or Z is row k.
    With named ``heads`` (the depth-first backend), H and Z are split into one block per
    head, ``H_blocks`` / ``Z_blocks`` entries long: the k-th entry of head h's block is
    row h·m + k, m = hidden_size / number of heads (a slot reads its own head's values;
    ω of head h weighs its own ζ block)."""

    V: tuple[str, ...]
    E: tuple[str, ...]
    H: tuple[Direction, ...]
    Z: tuple[str, ...]
    hidden_size: int
    mechanism: str = "general"
    heads: tuple[str, ...] = ()
    H_blocks: tuple[int, ...] = ()
    Z_blocks: tuple[int, ...] = ()

    def __post_init__(self):
        if self.heads:
            m = self.head_size
            for what, names, blocks in (("H", self.H, self.H_blocks), ("Z", self.Z, self.Z_blocks)):
                if len(blocks) != len(self.heads) or sum(blocks) != len(names) or max(blocks, default=0) > m:
                    raise ValueError(f"{what} blocks {blocks} do not split {len(names)} directions into "
                                     f"{len(self.heads)} heads of {m}")

    @property
    def nb_heads(self) -> int:
        return max(1, len(self.heads))

    @property
    def head_size(self) -> int:
        """Channels per head (the model's ``hidden_size / nb_heads``)."""
        return self.hidden_size // self.nb_heads

    def _place(self, blocks: tuple[int, ...], n: int) -> list[tuple[int, int]]:
        """(head, index within the head) of each of the ``n`` entries of H or Z."""
        if not self.heads:
            return [(0, k) for k in range(n)]
        return [(h, k) for h, size in enumerate(blocks) for k in range(size)]

    @property
    def H_rows(self) -> list[int]:
        """The row of H (of W_val, W_skip, W_info) that holds each entry of ``H``."""
        return [h * self.head_size + k for h, k in self._place(self.H_blocks, len(self.H))]

    @property
    def Z_rows(self) -> list[int]:
        """The row of ζ (of W_out, W_in, W_edge) that holds each entry of ``Z``."""
        return [h * self.head_size + k for h, k in self._place(self.Z_blocks, len(self.Z))]

    def v(self, name: str) -> int:
        return self.V.index(name)

    def e(self, name: str) -> int:
        return self.E.index(name)

    def h(self, component: str, role: str = "value") -> int:
        return self.H_rows[self.H.index(Direction(component, role))]

    def z(self, name: str) -> int:
        return self.Z_rows[self.Z.index(name)]

    def omega_of(self, name: str) -> tuple[int, int]:
        """(head, index in the head's ω) of attention feature ``name``."""
        return self._place(self.Z_blocks, len(self.Z))[self.Z.index(name)]

    def named(self) -> dict[str, list[tuple[str, int]]]:
        """(name, row) of every named direction of V, E, H and ζ, and for ω (name, head,
        index within the head) of each ζ: what ``show`` labels its heatmaps with."""
        return {"V": [(n, i) for i, n in enumerate(self.V)], "E": [(n, i) for i, n in enumerate(self.E)],
                "H": [(str(d), r) for d, r in zip(self.H, self.H_rows)], "Z": list(zip(self.Z, self.Z_rows)),
                "omega": [(n, h, k) for n, (h, k) in zip(self.Z, self._place(self.Z_blocks, len(self.Z)))]}

    def to_dict(self) -> dict:
        """JSON-ready: what a compiled checkpoint stores, so ``show`` reads it back."""
        d = {"V": list(self.V), "E": list(self.E), "H": [str(d) for d in self.H], "Z": list(self.Z),
             "hidden_size": self.hidden_size, "mechanism": self.mechanism}
        if self.heads:
            d.update(heads=list(self.heads), H_blocks=list(self.H_blocks), Z_blocks=list(self.Z_blocks))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Layout":
        """The inverse of ``to_dict`` (a layout saved before heads were named has one)."""
        return cls(tuple(d["V"]), tuple(d["E"]), tuple(Direction.parse(h) for h in d["H"]), tuple(d["Z"]),
                   int(d["hidden_size"]), d.get("mechanism", "general"), tuple(d.get("heads", ())),
                   tuple(int(b) for b in d.get("H_blocks", ())), tuple(int(b) for b in d.get("Z_blocks", ())))

    def slots(self, component: str) -> list[int]:
        """H rows whose sum (with signs, for offset pointers) is ``component``'s value."""
        return [r for d, r in zip(self.H, self.H_rows) if d.component == component and d.is_value]

    def terms(self, component: str) -> list[tuple[str, int, float]]:
        """``component``'s value as a signed sum of ('V' | 'H', slot, sign): the sum of
        its slots, or for an offset pointer x - Σ(+ slots) + Σ(- slots)."""
        sign = {r: d.sign for d, r in zip(self.H, self.H_rows)}
        offset = {r: d.is_offset for d, r in zip(self.H, self.H_rows)}
        slots = self.slots(component)
        if any(offset[k] for k in slots):
            return [("V", self.v("idx"), 1.0)] + [("H", k, sign[k]) for k in slots]
        return [("H", k, sign[k]) for k in slots]


def _directions(plan: Plan, mechanism: str = "general") -> tuple[list[str], list[str], list[Direction], list[str]]:
    if mechanism == "paper":
        return _paper_directions(plan)
    V, E = _inputs(plan, parent=True)
    H = []
    for name, kind, _ in plan.updates:
        comp = plan.program.hidden[name]
        D = lambda role, name=name: Direction(name, role)  # noqa: E731
        if kind == "flag":
            H.append(D("value"))
            continue
        if name in plan.offset_pointers:
            H += [D("take+"), D("take-")] + ([D("keep+"), D("keep-")] if plan.keep else [])
            continue
        H.append(D("take"))
        if kind == "expr" and plan.incumbent:
            H.append(D("delta"))
        if isinstance(comp, Pointer):
            H.append(D("self"))
        if plan.keep:
            H.append(D("keep"))
    Z = _minimum_features(plan)
    if plan.incumbent:
        Z += ["parent", "parent:leak", "parent:cancel"]
    return V, E, H, Z


def _inputs(plan: Plan, *, parent: bool) -> tuple[list[str], list[str]]:
    """V: the id and the start flag; E: the expression's edge inputs and, with an
    incumbent, the adjacency (and the fed-back parent pointer when ``parent``)."""
    V = ["idx"] + (["start"] if plan.start else [])
    E = [f"edge:{n}" for n in plan.edge_inputs]
    if plan.incumbent:
        E += [f"edge:{plan.adj}"] + (["edge:parent"] if parent else [])
    return V, E


def _minimum_features(plan: Plan) -> list[str]:
    """The minimum selection's attention features (``processor.minimum_features``)."""
    return ["value"] + ([] if plan.expr_is_idx else ["id"]) + (["penalty"] if plan.mask or plan.incumbent else [])


def _paper_directions(plan: Plan) -> tuple[list[str], list[str], list[Direction], list[str]]:
    """The paper's mechanism: the general slots, except that an incumbent program keeps
    its state through self-selection (``fall`` and the ``keep:*`` pointer slots replace
    re-selecting the parent), plus the id in H; attention features for the self default
    (``self``, fed by B = k·I) and, when the expression reads an edge input, two features
    that take a self-loop's weight out of the receiver's own score (``selfloop:g/h``)."""
    if plan.offset_pointers:
        raise ValueError(f"the paper's mechanism does not compile pointers read from senders "
                         f"({sorted(plan.offset_pointers)}); use mechanism='general'")
    V, E = _inputs(plan, parent=False)
    H = []
    for name, kind, _ in plan.updates:
        comp = plan.program.hidden[name]
        D = lambda role, name=name: Direction(name, role)  # noqa: E731
        if kind == "flag":
            H.append(D("value"))
        elif plan.incumbent and kind == "expr":
            H += [D("take"), D("keep"), D("fall")]
        elif plan.incumbent and kind == "idx":
            H += [D("take"), D("self"), D("keep:x"), D("keep:x+z"), D("keep:x-z"), D("keep:pi+z"), D("keep:pi-z")]
        elif plan.incumbent:
            raise ValueError(f"the paper's mechanism compiles incumbent programs whose components are the flag, "
                             f"the expr and the parent pointer; {name!r} is neither")
        else:
            H.append(D("take"))
            if isinstance(comp, Pointer):
                H.append(D("self"))
            if plan.keep:
                H.append(D("keep"))
    H.append(Direction("idx", "self"))
    Z = _minimum_features(plan) + ["self"]
    if plan.expr_edge:
        Z += ["selfloop:g", "selfloop:h"]
    return V, E, H, Z


def minimal_hidden_size(program: GraphProgram, mechanism: str = "general") -> int:
    """The smallest hidden size ``program`` compiles to (its largest group of named
    directions: node features, edge features, hidden slots or attention features)."""
    V, E, H, Z = _directions(analyse(program), mechanism)
    return max(len(V), len(E), len(H), len(Z))


def layout(plan: Plan, hidden_size: int | None = None, mechanism: str = "general") -> Layout:
    """Stage 2: the named directions, at ``hidden_size`` (default: the minimal size)."""
    if mechanism not in MECHANISMS:
        raise ValueError(f"unknown mechanism {mechanism!r}; use one of {', '.join(MECHANISMS)}")
    V, E, H, Z = _directions(plan, mechanism)
    need = max(len(V), len(E), len(H), len(Z))
    hidden_size = need if hidden_size is None else hidden_size
    if hidden_size < need:
        raise ValueError(
            f"program {plan.program.algorithm!r} needs hidden size >= {need} "
            f"(hidden slots {[str(d) for d in H]}, node features {V}, edge features {E}, "
            f"attention features {Z}), got {hidden_size}"
        )
    return Layout(tuple(V), tuple(E), tuple(H), tuple(Z), hidden_size, mechanism)
