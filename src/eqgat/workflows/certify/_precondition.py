"""What a certificate assumes of the graphs it covers."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Precondition:
    """What the certificate assumes of a graph (every number is the model's float32 input).

    **Arguments:**

    - `max_nodes`: N, the largest graph.
    - `id_spacing`: ids lie in [0, 1) and are pairwise at least this far apart.
    - `value_bound`: every distance (scalar value) lies below it.
    - `weight_bound`: every edge weight lies below it.
    - `grid`: g; weights (hence values) are multiples of g (None: no scalar values).
    - `steps`: the most message-passing steps of a trace.
    """

    max_nodes: int
    id_spacing: float
    value_bound: float
    weight_bound: float
    grid: float | None
    steps: int

    @property
    def x_max(self) -> float:
        return 1.0 - 1.0 / self.max_nodes + 2.0 ** -24

    def describe(self) -> str:
        n = self.max_nodes
        out = [f"graphs of 1 to {n} nodes, undirected, without self-loops, with one start node (dm-clrs' source), "
               f"run for at most "
               f"{self.steps} message-passing steps (the trace bound at n = {n})",
               f"ids in [0, 1) pairwise at least {self.id_spacing:.9g} apart (dm-clrs' float32 ids i/n, n <= {n}, "
               f"are; training's random ids need not be)"]
        if self.grid is not None:
            out.append(f"edge weights multiples of {self.grid:g} = 2^{_log2(self.grid)} in [{self.grid:g}, "
                       f"{self.weight_bound:g}) (so two candidates are exactly tied or at least {self.grid:g} apart: "
                       f"the near-tie resolution), every distance below {self.value_bound:g} (the value bound)")
        return "; ".join(out)

    def to_json(self) -> dict:
        return {"max_nodes": self.max_nodes, "id_spacing": self.id_spacing, "value_bound": self.value_bound,
                "weight_bound": self.weight_bound, "grid": self.grid, "steps": self.steps}


def _log2(g: float) -> int:
    return int(round(math.log2(g)))
