"""A verification run's report: rows per graph group and probe, margins, and the table
``python -m eqgat verify`` prints."""

from dataclasses import asdict, dataclass, field

@dataclass
class Row:
    """One probe on one group of graphs (a sampler distribution, a family, or exhaustive)."""

    length: int
    distribution: str
    probe: str
    correct: int
    total: int
    near_tie: int = 0  # misses on graphs with a near-tie at or before the miss

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.total, 1)

    @property
    def misses(self) -> int:
        """Misses that are not near-ties."""
        return self.total - self.correct - self.near_tie


@dataclass
class Margins:
    """How far a run is from failure (see the module docstring)."""

    min_logit_gap: float = float("inf")
    min_gate_slack: float = 0.5
    max_rounding_ratio: float = 0.0
    selections: int = 0  # selections the gap was taken over
    near_tie_graphs: int = 0

    def update(self, other: "Margins") -> None:
        self.min_logit_gap = min(self.min_logit_gap, other.min_logit_gap)
        self.min_gate_slack = min(self.min_gate_slack, other.min_gate_slack)
        self.max_rounding_ratio = max(self.max_rounding_ratio, other.max_rounding_ratio)
        self.selections += other.selections
        self.near_tie_graphs += other.near_tie_graphs


@dataclass
class VerifyReport:
    """A verification run (what ``verify`` and ``verify_algorithm`` return): its settings,
    rows (one per graph group and probe) and margins. ``format_table(report)`` prints it
    as ``python -m eqgat verify`` does; ``to_json()`` gives it as a dict.

    Read it through its properties: ``exact`` (every miss is a near-tie within the
    documented resolution), ``misses`` (the misses that are not), ``near_ties`` (those
    that are), ``worst_gap`` (the smallest attention-logit gap of a selection that
    decides something).

    **Arguments:**

    - `algorithm`, `hidden_size`, `graphs`, `samples`, `seed`, `x64`, `max_nodes`: the
      run's settings.
    - `resolution`: values closer than this may resolve by id or incumbency (near-ties).
    - `scale`: None for the default constants, S for S times the smallest.
    - `logit_scale`: L.
    - `mechanism`: ``"general"`` or ``"paper"``.
    - `program`: the program's type, which says what the resolution means.
    - `rows`: per graph group and probe: length, distribution, correct, total, near_tie.
    - `margins`: the least logit gap, the least gate slack (0.5: every gate exactly 0 or
      1), the largest rounding relative to a gap, and the count of graphs with a near-tie.
    """

    algorithm: str
    hidden_size: int
    graphs: str
    samples: int
    seed: int
    x64: bool
    max_nodes: int
    resolution: float
    scale: float | None = None  # None: the default constants; S: S x the smallest
    logit_scale: float = 0.0  # L
    mechanism: str = "general"
    program: str = "GraphProgram"  # the program's type: what the resolution means
    rows: list[Row] = field(default_factory=list)
    margins: Margins = field(default_factory=Margins)

    @property
    def exact(self) -> bool:
        """Every miss is a near-tie within the documented resolution."""
        return all(r.misses == 0 for r in self.rows)

    @property
    def near_ties(self) -> int:
        return sum(r.near_tie for r in self.rows)

    @property
    def misses(self) -> int:
        return sum(r.misses for r in self.rows)

    @property
    def worst_gap(self) -> float:
        return self.margins.min_logit_gap

    def to_json(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k not in ("rows", "margins")}
        out.update(exact=self.exact, near_ties=self.near_ties, margins=asdict(self.margins),
                   rows=[dict(asdict(r), accuracy=r.accuracy) for r in self.rows])
        return out


def format_table(report: VerifyReport) -> str:
    """``report`` as the table ``python -m eqgat verify`` prints."""
    lines = [f"{'n':>5} {'graphs':<20} {'probe':<8} {'correct':>9} {'total':>7} {'accuracy':>9} {'near-ties':>9}"]
    for r in report.rows:
        acc = f"{100 * r.accuracy:>8.2f}%" if r.total else f"{'-':>9}"
        lines.append(f"{r.length:>5} {r.distribution:<20} {r.probe:<8} {r.correct:>9} {r.total:>7} {acc} {r.near_tie:>9}")
    m = report.margins
    if report.program == "DepthFirst":
        lines.append(f"resolution {report.resolution:.3g} (graphs with two ids closer than this are near-ties: the "
                     f"id comparisons are not claimed there); {m.near_tie_graphs} graph(s) with a near-tie")
    else:
        lines.append(f"resolution {report.resolution:.3g} (values closer than this may resolve by id or incumbency); "
                     f"{m.near_tie_graphs} graph(s) with a near-tie")
    lines.append(f"worst margins: logit gap {m.min_logit_gap:.4g} (over {m.selections} selections), "
                 f"gate slack {m.min_gate_slack:.4g}, rounding/gap {m.max_rounding_ratio:.3g}")
    return "\n".join(lines)
