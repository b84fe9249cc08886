"""What the paper reports and how each number was made: the experiments (one training
setup each, shared by every table or figure that uses it) and the entries (tables 2, 3,
5, 7-13 and figures 1-5) with the paper's numbers as printed.

The paper's settings are table 4's (``TrainConfig``'s defaults: 10,000 steps, Adam 1e-4,
batch 32, train lengths 4-16, hidden 128, one head, layer norm, tested on CLRS-30's
64-node test split) changed as each experiment says: table 2 (grokking: 50,000 steps at
5e-5), table 3 (ablations: train length 16, simplified decoders, ``use_edge_info`` /
``use_pre_att_bias``; ``length_generalize`` False tests at the training size), table 10
(no hints), C.4 (minimal: hidden 4), C.5 (stability: retrain the compiled model) and
C.7 (the fork's ``bfs_seq`` and ``dfs_light``).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paper:
    """A number as the paper prints it: mean ± std (max), in %."""

    mean: float
    std: float
    max: float | None = None

    def __str__(self) -> str:
        return f"{self.mean:.2f} ± {self.std:.2f}" + ("" if self.max is None else f" ({self.max:.2f})")


@dataclass(frozen=True)
class Experiment:
    """One training setup, run for many seeds: ``kind`` "train" (``TrainConfig`` with the
    ``train`` and ``model`` overrides of table 4) or "stability" (the compiled model
    retrained, ``eqgat.workflows.stability``). ``key`` names its folder; entries sharing an
    experiment share its runs."""

    key: str
    algo: str
    kind: str = "train"
    train: dict = field(default_factory=dict)  # TrainConfig fields changed from table 4
    model: dict = field(default_factory=dict)  # ModelConfig fields changed from table 4
    minimal: bool = False  # C.4: a 1024-seed budget in the paper
    fixed_size: bool = False  # trains and tests at one graph size (table 3's length_generalize False)
    mechanism: str = "general"  # a stability experiment's compiled mechanism (the paper's fixes the size)

    def __hash__(self):
        return hash(self.key)


@dataclass(frozen=True)
class Row:
    """A table row: ``label`` as the paper prints it, the experiment behind it, the paper's number."""

    label: str
    experiment: Experiment
    paper: Paper | None


@dataclass(frozen=True)
class Figure:
    """A figure: the faithfulness of ``experiment``'s seeds against the compiled model
    (``eqgat.workflows.faithfulness``); ``show`` picks which of its figures and numbers, ``claim``
    is what the paper reads from it."""

    experiment: Experiment
    show: str  # "correlation" | "trace" | "attention-time" | "attention-best"
    claim: str


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    rows: tuple[Row, ...] = ()
    figure: Figure | None = None
    note: str = ""

    @property
    def experiments(self) -> list[Experiment]:
        exps = [r.experiment for r in self.rows] + ([self.figure.experiment] if self.figure else [])
        return list(dict.fromkeys(exps))


_ABLATION = {"train_lengths": (16,)}
_SIMPLE = {"simplify_decoders": True}


#: The attention-supervision weights W of the ``supervision`` entry (0: table 5's runs).
SUPERVISION_WEIGHTS = (0.0, 0.1, 1.0, 10.0)


def _exp(key, algo, **kw) -> Experiment:
    return Experiment(key, algo, **kw)


BFS = _exp("bfs", "bfs")
BF = _exp("bellman_ford", "bellman_ford")
DFS = _exp("dfs", "dfs")
EXPERIMENTS = {e.key: e for e in [
    BFS, BF, DFS,
    _exp("bfs-grokking", "bfs", train={"steps": 50_000, "lr": 5e-5}),
    # table 7: train at 16, test at CLRS-30's 64 (no B, so it can length-generalise)
    _exp("bellman_ford-t3-default", "bellman_ford", train=_ABLATION, model=_SIMPLE),
    _exp("bellman_ford-t3-edge-info", "bellman_ford", train=_ABLATION, model={**_SIMPLE, "use_edge_info": True}),
    # tables 8 and 9: length_generalize False, tested at 16
    _exp("bfs-t3-default", "bfs", train=_ABLATION, model=_SIMPLE, fixed_size=True),
    _exp("bfs-t3-bias", "bfs", train=_ABLATION, model={**_SIMPLE, "use_pre_att_bias": True}, fixed_size=True),
    _exp("bellman_ford-t3-default-16", "bellman_ford", train=_ABLATION, model=_SIMPLE, fixed_size=True),
    _exp("bellman_ford-t3-both", "bellman_ford", train=_ABLATION,
         model={**_SIMPLE, "use_edge_info": True, "use_pre_att_bias": True}, fixed_size=True),
    _exp("dfs-no-hints", "dfs", model={"encode_hints": False, "decode_hints": False}),
    _exp("bfs-no-hints", "bfs", model={"encode_hints": False, "decode_hints": False}),
    _exp("bellman_ford-no-hints", "bellman_ford", model={"encode_hints": False, "decode_hints": False}),
    _exp("bellman_ford-minimal", "bellman_ford", model={"hidden_size": 4}, minimal=True),
    _exp("bellman_ford-minimal-modified", "bellman_ford", train=_ABLATION,
         model={"hidden_size": 4, "use_edge_info": True, "use_pre_att_bias": True}, minimal=True, fixed_size=True),
    _exp("bfs-minimal", "bfs", model={"hidden_size": 4}, minimal=True),
    _exp("bfs-minimal-bias", "bfs", train=_ABLATION, model={"hidden_size": 4, "use_pre_att_bias": True},
         minimal=True, fixed_size=True),
    _exp("bellman_ford-stability", "bellman_ford", kind="stability"),
    _exp("bfs-stability", "bfs", kind="stability"),
    # the paper's mechanism (B = k·I) fixes n: trained and tested at 16, as tables 8 and 9
    _exp("bellman_ford-stability-paper", "bellman_ford", kind="stability", mechanism="paper",
         train={"train_lengths": (16,)}, fixed_size=True),
    _exp("bfs-stability-paper", "bfs", kind="stability", mechanism="paper", train={"train_lengths": (16,)},
         fixed_size=True),
    _exp("bfs_seq", "bfs_seq"),
    _exp("dfs_light", "dfs_light"),
    # attention supervision (not in the paper): table 4 plus W x the attention loss against
    # the compiled model (W = 0 is table 5's run)
    *(_exp(f"{algo}-supervised-{w:g}", algo, train={"attention_supervision": w})
      for algo in ("bfs", "bellman_ford") for w in SUPERVISION_WEIGHTS[1:]),
]}
X = EXPERIMENTS

_ALGO = {"bfs": "BFS", "bellman_ford": "Bellman-Ford"}
_T7 = (Row("Default (No Edge Info)", X["bellman_ford-t3-default"], Paper(86.59, 5.97, 92.24)),
       Row("Modified (Edge Info)", X["bellman_ford-t3-edge-info"], Paper(90.67, 1.40, 92.72)))
_T8 = (Row("Default (Without Bias)", X["bfs-t3-default"], Paper(99.92, 0.28, 100.00)),
       Row("Modified (With Bias)", X["bfs-t3-bias"], Paper(99.72, 0.95, 100.00)))
_T9 = (Row("Default (Neither)", X["bellman_ford-t3-default-16"], Paper(97.31, 0.92, 98.93)),
       Row("Modified (Both)", X["bellman_ford-t3-both"], Paper(97.81, 0.88, 99.41)))
_CORRELATION = ("no significant correlation between faithfulness and accuracy (95% confidence interval)")

ENTRIES = {e.name: e for e in [
    Entry("table2", "Table 2: grokking (50,000 steps at learning rate 5e-5; results in table 6, 'Extended Training')",
          (Row("BFS", X["bfs-grokking"], Paper(97.55, 1.52)),),
          note="Table 6 prints no maximum and no Bellman-Ford number ('-') for extended training."),
    Entry("table3", "Table 3: the architecture-ablation settings (train length 16, simplified decoders, "
          "use_edge_info / use_pre_att_bias); their results are tables 7-9",
          tuple(Row(f"{_ALGO[r.experiment.algo]}, {r.label} ({t})", r.experiment, r.paper)
                for t, rows in (("table 7", _T7), ("table 8", _T8), ("table 9", _T9)) for r in rows)),
    Entry("table5", "Table 5: replicated GATv2 baseline CLRS results (table 4 settings)",
          (Row("BFS", BFS, Paper(98.30, 0.97, 100.00)),
           Row("DFS", DFS, Paper(12.74, 3.44, 18.21)),
           Row("Bellman-Ford", BF, Paper(90.63, 1.27, 92.77))),
          note="The paper samples 128 initialisations."),
    Entry("table7", "Table 7: ablation, Bellman-Ford edge information (train length 16, tested at 64)", _T7),
    Entry("table8", "Table 8: ablation, BFS pre-attention bias (train and test length 16)", _T8),
    Entry("table9", "Table 9: ablation, Bellman-Ford with both modifications (train and test length 16)", _T9),
    Entry("table10", "Table 10: training without traces (no hints encoded or decoded)",
          (Row("DFS", X["dfs-no-hints"], Paper(16.49, 2.45, 20.61)),
           Row("BFS", X["bfs-no-hints"], Paper(98.74, 0.98, 100.00)),
           Row("BF", X["bellman_ford-no-hints"], Paper(90.14, 1.15, 91.80)))),
    Entry("table11", "Table 11: minimal networks (hidden size 4; the paper draws 1024 seeds)",
          (Row("Bellman-Ford (Default)", X["bellman_ford-minimal"], Paper(38.97, 8.35, 59.13)),
           Row("Bellman-Ford (Arch Modify)", X["bellman_ford-minimal-modified"], Paper(74.38, 10.29, 88.77)),
           Row("BFS (Default)", X["bfs-minimal"], Paper(81.60, 11.32, 99.56)),
           Row("BFS (Pre-Attention Bias)", X["bfs-minimal-bias"], Paper(93.32, 6.89, 99.32))),
          note="'Arch Modify' is both switches (edge information and pre-attention bias), so it trains and "
               "tests at length 16; the default rows test at 64."),
    Entry("table12", "Table 12: stability (the compiled model retrained at table 4 settings, hidden 128)",
          (Row("Compiled → Trained Bellman-Ford", X["bellman_ford-stability"], Paper(80.77, 14.83, 97.66)),
           Row("Compiled → Trained BFS", X["bfs-stability"], Paper(82.04, 15.55, 100.00)),
           Row("Compiled (paper mechanism) → Trained Bellman-Ford", X["bellman_ford-stability-paper"],
               Paper(80.77, 14.83, 97.66)),
           Row("Compiled (paper mechanism) → Trained BFS", X["bfs-stability-paper"], Paper(82.04, 15.55, 100.00))),
          note="The paper does not say which mechanism its compiled start uses; its numbers stand beside both. The "
               "paper mechanism's rows train and test at n = 16 (its B fixes n); the others test at 64."),
    Entry("table13", "Table 13: BFS-DFS disparity (the authors' fork's bfs_seq and dfs_light)",
          (Row("Sequential BFS", X["bfs_seq"], Paper(92.90, 2.85, 95.61)),
           Row("Simplified DFS", X["dfs_light"], Paper(11.66, 4.16, 20.75)))),
    Entry("supervision", "Attention supervision: table 4 plus W x the cross-entropy of the learned attention "
          "against the compiled model's (not in the paper)",
          tuple(Row(f"{_ALGO[algo]}, W = {w:g}", X[algo] if not w else X[f"{algo}-supervised-{w:g}"], None)
                for algo in ("bfs", "bellman_ford") for w in SUPERVISION_WEIGHTS),
          note="W = 0 is table 5's run. docs/supervision/supervision.py adds, from these checkpoints, the score at "
               "n = 128 and φ_internal / φ_external against the compiled model."),
    Entry("figure1", "Figure 1: external and internal faithfulness of BFS against test accuracy",
          figure=Figure(BFS, "correlation", _CORRELATION)),
    Entry("figure2", "Figure 2: external and internal faithfulness of Bellman-Ford against test accuracy",
          figure=Figure(BF, "correlation", _CORRELATION)),
    Entry("figure3", "Figure 3: learned BFS trace predictions over (normalised) time",
          figure=Figure(BFS, "trace", "trace predictions are only good early on, partially consistent at the "
                                      "beginning of a trace")),
    Entry("figure4", "Figure 4: BFS attention distance to the compiled model over time",
          figure=Figure(BFS, "attention-time", "attention is slightly closer at the beginning (the first two "
                                               "steps) and deviates otherwise (ideal: 0)")),
    Entry("figure5", "Figure 5: BFS attention, the best-matching seed against the compiled model",
          figure=Figure(BFS, "attention-best", "even the closest-matching initialisation does not attend like "
                                               "the compiled model")),
]}
