"""Profiles: how much of the paper's budget a reproduction spends.

- ``paper``: the paper's settings (128 seeds per row, 1024 for the minimal networks of
  C.4; every step count as printed; hidden 128; CLRS-30's 64-node test split).
- ``cpu``: fits roughly 1-2 hours per entry on 2 CPU cores: 4 seeds (16 minimal), a fifth
  of the steps (a tenth for the sequential algorithms, whose traces are ~3n steps long),
  otherwise the paper's settings.
- ``smoke``: seconds per entry, for CI: 2 seeds, 2 steps, hidden 8, 5-node graphs.

Every profile keeps each seed's parameters of its best validation score (dm-clrs'
``run.py``: validation every 50 steps on CLRS-30's validation split; the smoke profile
validates every step), except in the stability experiments, which measure where training
from the compiled model ends.
"""

from dataclasses import asdict, dataclass, replace

from ...algorithms import get_algorithm


@dataclass(frozen=True)
class Profile:
    name: str
    seeds: int  # per row
    minimal_seeds: int  # per row of the minimal networks (C.4)
    step_fraction: float  # of the paper's steps
    sequential_step_fraction: float  # for sequential algorithms (Algorithm.sequential: dfs, dfs_light, bfs_seq)
    min_steps: int = 1
    hidden_size: int | None = None  # None: the paper's (128; minimal rows keep 4)
    batch_size: int = 32
    graph_size: int | None = None  # None: the experiment's train lengths and CLRS-30's test size
    parallel: int = 4  # seeds trained at once (one vmapped program)
    faithfulness_split: str = "test"  # eqgat.workflows.faithfulness.eval_graphs for the figures
    faithfulness_samples: int = 32
    select: str = "best_val"  # TrainConfig.select of the training experiments
    val_every: int = 50  # dm-clrs run.py's eval_every

    def seeds_for(self, exp) -> int:
        return self.minimal_seeds if exp.minimal else self.seeds

    def steps_for(self, exp, paper_steps: int) -> int:
        f = self.sequential_step_fraction if get_algorithm(exp.algo).sequential else self.step_fraction
        return max(self.min_steps, round(paper_steps * f))

    def limited(self, *, seeds: int | None = None, parallel: int | None = None) -> "Profile":
        """This profile with at most ``seeds`` seeds per row (minimal rows too) and
        ``parallel`` seeds per vmapped group; neither changes a seed's result."""
        p = self
        if seeds is not None:
            p = replace(p, seeds=min(p.seeds, seeds), minimal_seeds=min(p.minimal_seeds, seeds))
        if parallel is not None:
            p = replace(p, parallel=parallel)
        return p

    def to_dict(self) -> dict:
        return asdict(self)


PROFILES = {p.name: p for p in [
    Profile("paper", seeds=128, minimal_seeds=1024, step_fraction=1.0, sequential_step_fraction=1.0, parallel=32),
    Profile("cpu", seeds=4, minimal_seeds=16, step_fraction=0.2, sequential_step_fraction=0.1, parallel=4),
    Profile("smoke", seeds=2, minimal_seeds=2, step_fraction=0.0, sequential_step_fraction=0.0, min_steps=2,
            hidden_size=8, batch_size=4, graph_size=5, parallel=2, faithfulness_split="sampler",
            faithfulness_samples=4, val_every=1),
]}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; use one of {', '.join(PROFILES)}")
    return PROFILES[name]
