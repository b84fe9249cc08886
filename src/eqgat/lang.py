"""The graph-program language: hidden-state components, a minimum selection and an update.

A program describes one synchronous round of a graph algorithm, for every receiving node
``i`` at once (paper section 3.3, listings 1-2)::

    bfs = GraphProgram(
        algorithm="bfs",
        hidden={"visit": Flag(start="s"), "pi": Pointer()},
        select=Minimum(expr=other.idx, mask=other.visit, keep=self_.visit),
        update={"visit": other.visit, "pi": other.idx},
        probes={"reach_h": "visit", "pi_h": "pi", "pi": "pi"},
    )

Names: ``self_`` is the receiving node, ``other`` a candidate sender (a neighbour of ``i``
or ``i`` itself), ``edge`` the edge between them (edge inputs by their probe name) and
``other.idx`` the sender's node id (its ``idx`` input, ``pos``, a number in [0, 1) that orders
nodes). Components:

- ``Flag(start=INPUT)``: a boolean; true from the start on nodes where the mask input
  ``INPUT`` is 1 (those nodes are the *start* nodes, frozen at their initial state).
- ``Scalar()``: a float, 0 until set.
- ``Pointer()``: a node reference, pointing at the node itself until set.

Semantics of one round, for node ``i`` (``evaluate`` implements them in plain Python):

1. Start nodes keep their initial state (flags true, scalars 0, pointers to themselves).
2. If ``keep`` holds for ``i`` (``keep=self_.visit``), ``i`` keeps its state.
3. Candidates are the neighbours ``j`` of ``i`` (an edge in either direction) for which
   ``mask`` holds (all of them without a mask); ``i`` itself is a candidate too, except
   under ``incumbent``, where only a self-loop makes it one. With none, ``i`` keeps
   its state.
4. Otherwise ``other`` is the candidate minimising ``expr`` (ties: lowest index). With
   ``incumbent=self_.visit``, a node whose flag holds only moves if ``expr(other)`` is
   strictly below its current value of the component the update sets to ``expr``.
5. ``i``'s components become the update's expressions of ``other`` and ``edge``.

A ``DepthFirst`` program is the one sequential form: a cursor, the lowest white
neighbour, push and pop (its docstring has the semantics).
"""

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Term:
    """A linear expression over named references ``(scope, name)``."""

    coeffs: tuple[tuple[tuple[str, str], float], ...]

    @staticmethod
    def ref(scope: str, name: str) -> "Term":
        return Term((((scope, name), 1.0),))

    def _items(self) -> dict:
        return dict(self.coeffs)

    def __add__(self, other: "Term") -> "Term":
        if not isinstance(other, Term):
            return NotImplemented
        out = self._items()
        for k, v in other.coeffs:
            out[k] = out.get(k, 0.0) + v
        return Term(tuple(sorted(out.items())))

    def __mul__(self, c: float) -> "Term":
        return Term(tuple((k, v * float(c)) for k, v in self.coeffs))

    __rmul__ = __mul__

    def refs(self, scope: str | None = None) -> list[tuple[str, float]]:
        return [(n, c) for (s, n), c in self.coeffs if scope is None or s == scope]

    @property
    def scopes(self) -> set[str]:
        return {s for (s, _), _ in self.coeffs}

    def single(self) -> tuple[str, str]:
        """The one reference this term is (with coefficient 1), or a ValueError."""
        if len(self.coeffs) != 1 or self.coeffs[0][1] != 1.0:
            raise ValueError(f"expected a single reference like other.visit, got {self}")
        return self.coeffs[0][0]

    def __repr__(self) -> str:
        return " + ".join(f"{'' if c == 1 else f'{c}*'}{s}.{n}" for (s, n), c in self.coeffs)


class _Scope:
    def __init__(self, scope: str):
        self._scope = scope

    def __getattr__(self, name: str) -> Term:
        if name.startswith("_"):
            raise AttributeError(name)
        return Term.ref(self._scope, name)


other = _Scope("other")
self_ = _Scope("self")
edge = _Scope("edge")


@dataclass(frozen=True)
class Flag:
    """A boolean component; ``start`` names the mask input that sets it initially."""

    start: str | None = None


@dataclass(frozen=True)
class Scalar:
    """A float component (0 until set)."""


@dataclass(frozen=True)
class Pointer:
    """A node reference (the node itself until set)."""


Component = Flag | Scalar | Pointer


@dataclass(frozen=True)
class Minimum:
    """Selection: ``other`` = the candidate minimising ``expr`` among those satisfying
    ``mask`` (a ``DepthFirst`` mask may be a tuple of terms, all of which must hold);
    ``keep``/``incumbent`` as in the module docstring."""

    expr: Term
    mask: Term | tuple[Term, ...] | None = None
    keep: Term | None = None
    incumbent: Term | None = None


@dataclass(frozen=True)
class Colour:
    """A node's DFS colour: white (not reached), grey (on the stack), black (finished).
    ``other.white`` in a mask reads it."""


@dataclass(frozen=True)
class GraphProgram:
    """A graph program: the algorithm (probe spec) it computes, its hidden-state
    components, the selection, the update, and which probe decodes which component."""

    algorithm: str
    hidden: Mapping[str, Component]
    select: Minimum
    update: Mapping[str, Term]
    probes: Mapping[str, str]
    idx: str = "pos"
    doc: str = field(default="", compare=False)


@dataclass(frozen=True)
class DepthFirst:
    """A depth-first search: a *cursor* walks down a stack of grey nodes, one change per
    hint (the fork's ``dfs_light``). Components: a ``Colour`` and a ``Pointer`` (the
    parent, which is also the stack's link down). One step::

        cursor white (a new root)        -> it turns grey
        cursor grey, ``next`` finds w    -> push: w turns grey, parent(w) = cursor, cursor = w
        cursor grey, ``next`` finds none -> pop: it turns black, cursor = its parent (none at a root)
        no cursor (a tree has finished)  -> cursor = ``root``'s choice (no colour change;
                                            before the first step it also turns grey)

    ``next`` is a ``Minimum`` over the cursor's neighbours, ``root`` one over every node;
    a mask is one term or a tuple of terms that must all hold (``other.white`` for a
    white node, ``edge.adj`` for an edge cursor -> other of the edge mask input ``adj``)::

        dfs_light = DepthFirst(
            algorithm="dfs_light",
            hidden={"colour": Colour(), "parent": Pointer()},
            next=Minimum(expr=other.idx, mask=(other.white, edge.adj)),
            root=Minimum(expr=other.idx, mask=other.white),
            probes={"color": "colour", "pi_h": "parent", "pi": "parent"},
        )

    ``trace`` says which hints the search writes: ``"light"`` (the fork's: colour and
    parent, the hint steps above) or ``"clrs"`` (dm-clrs' ``dfs``: a discovery step after
    each push and root, with all nine hints). A ``"clrs"`` program's probes decode, beside
    the two components, the trace's other parts (``TRACE_PARTS``)::

        dfs = DepthFirst(..., trace="clrs", probes={
            "color": "colour", "pi_h": "parent", "pi": "parent", "s_prev": "stack",
            "d": "discovery", "f": "finish", "time": "clock",
            "s": "root", "u": "cursor", "v": "scanned", "s_last": "top"})

    The compiler (``eqgat.compiler._dfs``) needs attention over all nodes: ``root`` may
    pick a node no edge leads to (``eqgat.workflows.locality``)."""

    algorithm: str
    hidden: Mapping[str, Component | Colour]
    next: Minimum
    root: Minimum
    probes: Mapping[str, str]
    idx: str = "pos"
    trace: str = "light"
    doc: str = field(default="", compare=False)


#: The hint traces a ``DepthFirst`` program may write.
TRACES = ("light", "clrs")

#: The parts of a ``"clrs"`` trace beyond the colour and the parent, with what they are:
#: the probes of such a program may decode them.
TRACE_PARTS = {
    "stack": "the stack link (dm-clrs' s_prev): the parent while grey, else the node itself",
    "discovery": "the time a node turned grey (d)",
    "finish": "the time a node turned black (f)",
    "clock": "the search's time (time += 0.01 at each discovery and finish)",
    "root": "the root of the current tree (s)",
    "cursor": "the node being processed (u)",
    "scanned": "the loop variable of the neighbour scan (v: the pushed node, or n - 1 after a scan that found none)",
    "top": "the top of the stack (s_last)",
}


Program = GraphProgram | DepthFirst
