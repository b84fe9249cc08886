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


def analyse(program: GraphProgram) -> Plan:
    """Stage 1: check ``program`` is compilable and classify its parts; every problem
    found is reported in one ``ValueError``."""
    if not isinstance(program, GraphProgram):
        raise TypeError(f"analyse reads a GraphProgram; got {type(program).__name__} (a DepthFirst program is "
                        "compiled by eqgat.compiler.compile_program, which sends it to eqgat.compiler._dfs)")
    spec = {p.name: p for p in get_spec(program.algorithm)}
    _fail = _Problems(program)
    hidden = dict(program.hidden)
    flags = [n for n, c in hidden.items() if isinstance(c, Flag)]
    if len(flags) > 1:
        _fail(f"at most one Flag component is supported, got {flags}")
    flag = flags[0] if flags else None
    start = hidden[flag].start if flag else None
    if start is not None:
        p = spec.get(start)
        if p is None or p.stage != Stage.INPUT or p.location != Location.NODE or p.type not in (Type.MASK, Type.MASK_ONE):
            _fail(f"Flag start {start!r} must be a node mask input of the spec")
    if program.idx not in spec or spec[program.idx].location != Location.NODE:
        _fail(f"node id input {program.idx!r} is not a node input")
    sel = program.select

    def flag_ref(term, scope, what):
        if term is None:
            return False
        if isinstance(term, tuple):
            _fail(f"{what}: a GraphProgram's {what} is one term like {scope}.{flag}, got {term}")
            return True
        try:
            s, n = term.single()
        except ValueError as err:
            _fail(f"{what}: {err}")
            return True
        if s != scope or n != flag:
            _fail(f"{what} must be {scope}.{flag}, got {term}")
        return True

    mask = flag_ref(sel.mask, "other", "mask")
    keep = flag_ref(sel.keep, "self", "keep")
    incumbent = flag_ref(sel.incumbent, "self", "incumbent")
    if keep and incumbent:
        _fail("keep and incumbent exclude each other")
    if sel.expr.scopes - {"other", "edge"}:
        _fail(f"expr may only use other.* and edge.*, got {sel.expr}")
    expr_other, expr_edge = [], []
    for name, c in sel.expr.refs("other"):
        if name != "idx" and not isinstance(hidden.get(name), (Scalar, Pointer)):
            _fail(f"expr uses other.{name}, which is not a Scalar or Pointer component")
        expr_other.append((name, c))
    for name, c in sel.expr.refs("edge"):
        p = spec.get(name)
        if p is None or p.stage != Stage.INPUT or p.location != Location.EDGE or p.type != Type.SCALAR:
            _fail(f"edge.{name} is not an edge scalar input of {program.algorithm}")
        expr_edge.append((name, c))
    if any(c < 0 for _, c in expr_other + expr_edge):
        _fail(f"expr must be a non-negative combination (it is an attention feature >= 0), got {sel.expr}")
    if set(program.update) != set(hidden):
        _fail(f"update must set every component {sorted(hidden)}, got {sorted(program.update)}")
    updates = []
    for name, comp in hidden.items():
        term = program.update.get(name)
        if term is None:
            continue  # reported above
        if isinstance(comp, Flag):
            if term.refs() != [(name, 1.0)] or term.scopes != {"other"}:
                _fail(f"flag {name} must be updated as other.{name}")
            if not mask:
                _fail(f"flag {name} needs mask=other.{name} (it spreads from masked senders)")
            updates.append((name, "flag", ()))
        elif term == sel.expr and isinstance(comp, Scalar):
            updates.append((name, "expr", ()))
        else:
            try:
                s, ref = term.single()
            except ValueError as err:
                _fail(f"{name}: {err}")
                continue
            if s != "other":
                _fail(f"{name} must be set from other.*, got {term}")
            if ref == "idx":
                if not isinstance(comp, Pointer):
                    _fail(f"other.idx can only set a Pointer ({name})")
                updates.append((name, "idx", ()))
            elif type(hidden.get(ref)) is type(comp):
                updates.append((name, "copy", (ref,)))
            else:
                _fail(f"{name} = other.{ref}: not a component of the same kind")
    adj = parent_hint = parent = None
    kinds = {k for _, k, _ in updates}
    if incumbent and ("expr" not in kinds or "idx" not in kinds):
        _fail("incumbent needs a Scalar set to expr and a Pointer set to other.idx (the parent)")
    elif incumbent:
        parent = next(n for n, k, _ in updates if k == "idx")
        hints = [p for p, c in program.probes.items() if c == parent and spec.get(p) is not None and spec[p].stage == Stage.HINT]
        if not hints:
            _fail(f"incumbent needs the parent pointer {parent!r} decoded as a hint "
                  "(fed back, it tells each receiver which sender is its parent)")
        parent_hint = hints[0] if hints else None
        masks = [p.name for p in spec.values() if p.stage == Stage.INPUT and p.location == Location.EDGE and p.type == Type.MASK]
        if not masks:
            _fail("incumbent needs an edge mask input (adjacency) in the spec to tell neighbours from non-edges")
        adj = masks[0] if masks else None
    for probe, comp in program.probes.items():
        if probe not in spec or spec[probe].stage == Stage.INPUT:
            _fail(f"{probe!r} is not a hint or output of {program.algorithm}")
            continue
        if comp not in hidden:
            _fail(f"probe {probe!r} decodes unknown component {comp!r}")
            continue
        want = {Flag: (Type.MASK,), Scalar: (Type.SCALAR,), Pointer: (Type.POINTER,)}[type(hidden[comp])]
        if spec[probe].type not in want or spec[probe].location != Location.NODE:
            _fail(f"probe {probe!r} ({spec[probe].type}) cannot decode {type(hidden[comp]).__name__} {comp!r}")
    missing = [p.name for p in spec.values() if p.stage != Stage.INPUT and p.name not in program.probes]
    if missing:
        _fail(f"probes {missing} of the spec are not decoded by the program")
    _fail.raise_any()
    use_edge_info = any(k == "expr" for _, k, _ in updates) and bool(expr_edge)
    # A pointer read from a sender must read "itself" while unset, also at step 0 when
    # H = 0: such pointers are stored as offsets x_i - π_i (split in +/- slots).
    read = {n for n, _ in expr_other} | {d[0] for _, k, d in updates if k == "copy"}
    offsets = frozenset(n for n in read if isinstance(hidden.get(n), Pointer))
    scalar_expr = any(isinstance(hidden.get(n), Scalar) for n, _ in expr_other) or bool(expr_edge)
    return Plan(program, flag, start, mask, keep, incumbent, tuple(expr_other), tuple(expr_edge),
                tuple(updates), tuple(n for n, _ in expr_edge), use_edge_info, offsets,
                adj, parent_hint, parent, scalar_expr)
