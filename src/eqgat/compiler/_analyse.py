"""Stage 1: read a ``GraphProgram`` against what one GATv2 step computes exactly (a ``Plan``),
collecting every problem it has into one error."""

from dataclasses import dataclass

from ..probes import Location, Stage, Type
from ..algorithms import get_spec
from ..lang import DepthFirst, Flag, GraphProgram, Pointer, Scalar


@dataclass(frozen=True)
class Plan:
    """Stage 1's reading of a program."""

    program: GraphProgram
    flag: str | None  # the one flag component, if any
    start: str | None  # the mask input that sets it at the start
    mask: bool  # selection masked by the flag
    keep: bool  # flagged receivers keep their state
    incumbent: bool  # flagged receivers only move for a strictly better expr
    expr_other: tuple[tuple[str, float], ...]  # (component or 'idx', coeff)
    expr_edge: tuple[tuple[str, float], ...]  # (edge input, coeff)
    updates: tuple[tuple[str, str, tuple], ...]  # (component, kind, detail)
    edge_inputs: tuple[str, ...]
    use_edge_info: bool
    offset_pointers: frozenset  # pointers read from senders: stored relative to own id
    adj: str | None  # incumbent: the edge mask input that tells neighbours from non-edges
    parent_hint: str | None  # incumbent: the hint that feeds the parent pointer back
    parent: str | None  # incumbent: the pointer component set to other.idx
    scalar_expr: bool  # expr reads a Scalar (values up to VALUE_BOUND) rather than ids

    @property
    def expr_is_idx(self) -> bool:
        """Selection by id alone: no two candidates tie, so no tie-break is needed."""
        return self.expr_other == (("idx", 1.0),) and not self.expr_edge


class _Problems:
    """Every problem a program has, raised together as one ``ValueError``."""

    def __init__(self, program: GraphProgram | DepthFirst):
        self.program, self.items = program, []

    def __call__(self, msg: str) -> None:
        self.items.append(msg)

    def raise_any(self) -> None:
        if self.items:
            lines = "\n".join(f"  - {m}" for m in self.items)
            raise ValueError(f"cannot compile program for {self.program.algorithm!r} "
                             f"({len(self.items)} problem{'s' if len(self.items) > 1 else ''}):\n{lines}")


def _flag(program: GraphProgram, spec: dict, fail: _Problems) -> tuple[str | None, str | None]:
    """The one ``Flag`` component and the mask input that starts it (or None)."""
    hidden = dict(program.hidden)
    flags = [n for n, c in hidden.items() if isinstance(c, Flag)]
    if len(flags) > 1:
        fail(f"at most one Flag component is supported, got {flags}")
    flag = flags[0] if flags else None
    start = hidden[flag].start if flag else None
    if start is not None:
        p = spec.get(start)
        if p is None or p.stage != Stage.INPUT or p.location != Location.NODE or p.type not in (Type.MASK, Type.MASK_ONE):
            fail(f"Flag start {start!r} must be a node mask input of the spec")
    if program.idx not in spec or spec[program.idx].location != Location.NODE:
        fail(f"node id input {program.idx!r} is not a node input")
    return flag, start


def _flag_ref(term, scope: str, what: str, flag: str | None, fail: _Problems) -> bool:
    """Whether the selection's ``what`` (mask, keep, incumbent) is given; it must be the
    term ``scope.flag``."""
    if term is None:
        return False
    if isinstance(term, tuple):
        fail(f"{what}: a GraphProgram's {what} is one term like {scope}.{flag}, got {term}")
        return True
    try:
        s, n = term.single()
    except ValueError as err:
        fail(f"{what}: {err}")
        return True
    if s != scope or n != flag:
        fail(f"{what} must be {scope}.{flag}, got {term}")
    return True


def _expr(program: GraphProgram, spec: dict, fail: _Problems) -> tuple[list, list]:
    """The selected expression's (component or 'idx', coeff) and (edge input, coeff) parts."""
    sel, hidden = program.select, dict(program.hidden)
    if sel.expr.scopes - {"other", "edge"}:
        fail(f"expr may only use other.* and edge.*, got {sel.expr}")
    expr_other, expr_edge = [], []
    for name, c in sel.expr.refs("other"):
        if name != "idx" and not isinstance(hidden.get(name), (Scalar, Pointer)):
            fail(f"expr uses other.{name}, which is not a Scalar or Pointer component")
        expr_other.append((name, c))
    for name, c in sel.expr.refs("edge"):
        p = spec.get(name)
        if p is None or p.stage != Stage.INPUT or p.location != Location.EDGE or p.type != Type.SCALAR:
            fail(f"edge.{name} is not an edge scalar input of {program.algorithm}")
        expr_edge.append((name, c))
    if any(c < 0 for _, c in expr_other + expr_edge):
        fail(f"expr must be a non-negative combination (it is an attention feature >= 0), got {sel.expr}")
    return expr_other, expr_edge


def _update(name: str, comp, term, program: GraphProgram, mask: bool, fail: _Problems):
    """One component's update as (component, kind, detail), or None when it cannot compile."""
    hidden = dict(program.hidden)
    if isinstance(comp, Flag):
        if term.refs() != [(name, 1.0)] or term.scopes != {"other"}:
            fail(f"flag {name} must be updated as other.{name}")
        if not mask:
            fail(f"flag {name} needs mask=other.{name} (it spreads from masked senders)")
        return (name, "flag", ())
    if term == program.select.expr and isinstance(comp, Scalar):
        return (name, "expr", ())
    try:
        s, ref = term.single()
    except ValueError as err:
        fail(f"{name}: {err}")
        return None
    if s != "other":
        fail(f"{name} must be set from other.*, got {term}")
    if ref == "idx":
        if not isinstance(comp, Pointer):
            fail(f"other.idx can only set a Pointer ({name})")
        return (name, "idx", ())
    if type(hidden.get(ref)) is type(comp):
        return (name, "copy", (ref,))
    fail(f"{name} = other.{ref}: not a component of the same kind")
    return None


def _updates(program: GraphProgram, mask: bool, fail: _Problems) -> list:
    """Every component's update (``_update``)."""
    hidden = dict(program.hidden)
    if set(program.update) != set(hidden):
        fail(f"update must set every component {sorted(hidden)}, got {sorted(program.update)}")
    found = [_update(name, comp, program.update[name], program, mask, fail)
             for name, comp in hidden.items() if name in program.update]
    return [u for u in found if u is not None]


def _incumbent(program: GraphProgram, spec: dict, updates: list, fail: _Problems):
    """For an ``incumbent`` selection: the edge mask input, the fed-back parent hint and
    the parent pointer component."""
    kinds = {k for _, k, _ in updates}
    if "expr" not in kinds or "idx" not in kinds:
        fail("incumbent needs a Scalar set to expr and a Pointer set to other.idx (the parent)")
        return None, None, None
    parent = next(n for n, k, _ in updates if k == "idx")
    hints = [p for p, c in program.probes.items() if c == parent and spec.get(p) is not None and spec[p].stage == Stage.HINT]
    if not hints:
        fail(f"incumbent needs the parent pointer {parent!r} decoded as a hint "
             "(fed back, it tells each receiver which sender is its parent)")
    masks = [p.name for p in spec.values() if p.stage == Stage.INPUT and p.location == Location.EDGE and p.type == Type.MASK]
    if not masks:
        fail("incumbent needs an edge mask input (adjacency) in the spec to tell neighbours from non-edges")
    return (masks[0] if masks else None), (hints[0] if hints else None), parent


def _check_probes(program: GraphProgram, spec: dict, fail: _Problems) -> None:
    """Every probe decodes a component of the right kind, and every hint and output is decoded."""
    hidden = dict(program.hidden)
    for probe, comp in program.probes.items():
        if probe not in spec or spec[probe].stage == Stage.INPUT:
            fail(f"{probe!r} is not a hint or output of {program.algorithm}")
            continue
        if comp not in hidden:
            fail(f"probe {probe!r} decodes unknown component {comp!r}")
            continue
        want = {Flag: (Type.MASK,), Scalar: (Type.SCALAR,), Pointer: (Type.POINTER,)}[type(hidden[comp])]
        if spec[probe].type not in want or spec[probe].location != Location.NODE:
            fail(f"probe {probe!r} ({spec[probe].type}) cannot decode {type(hidden[comp]).__name__} {comp!r}")
    missing = [p.name for p in spec.values() if p.stage != Stage.INPUT and p.name not in program.probes]
    if missing:
        fail(f"probes {missing} of the spec are not decoded by the program")


def analyse(program: GraphProgram) -> Plan:
    """Stage 1: check ``program`` is compilable and classify its parts; every problem
    found is reported in one ``ValueError``."""
    if not isinstance(program, GraphProgram):
        raise TypeError(f"analyse reads a GraphProgram; got {type(program).__name__} (a DepthFirst program is "
                        "compiled by eqgat.compiler.compile_program, which sends it to eqgat.compiler._dfs)")
    spec = {p.name: p for p in get_spec(program.algorithm)}
    fail = _Problems(program)
    hidden, sel = dict(program.hidden), program.select
    flag, start = _flag(program, spec, fail)
    mask = _flag_ref(sel.mask, "other", "mask", flag, fail)
    keep = _flag_ref(sel.keep, "self", "keep", flag, fail)
    incumbent = _flag_ref(sel.incumbent, "self", "incumbent", flag, fail)
    if keep and incumbent:
        fail("keep and incumbent exclude each other")
    expr_other, expr_edge = _expr(program, spec, fail)
    updates = _updates(program, mask, fail)
    adj, parent_hint, parent = _incumbent(program, spec, updates, fail) if incumbent else (None, None, None)
    _check_probes(program, spec, fail)
    fail.raise_any()
    use_edge_info = any(k == "expr" for _, k, _ in updates) and bool(expr_edge)
    # A pointer read from a sender must read "itself" while unset, also at step 0 when
    # H = 0: such pointers are stored as offsets x_i - π_i (split in +/- slots).
    read = {n for n, _ in expr_other} | {d[0] for _, k, d in updates if k == "copy"}
    offsets = frozenset(n for n in read if isinstance(hidden.get(n), Pointer))
    scalar_expr = any(isinstance(hidden.get(n), Scalar) for n, _ in expr_other) or bool(expr_edge)
    return Plan(program, flag, start, mask, keep, incumbent, tuple(expr_other), tuple(expr_edge),
                tuple(updates), tuple(n for n, _ in expr_edge), use_edge_info, offsets,
                adj, parent_hint, parent, scalar_expr)
