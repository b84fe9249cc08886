"""The faithfulness of a training run's seeds against the compiled model, on one set of
graphs: records (``faithfulness.json``), the attention arrays and the figures."""

import json
from pathlib import Path

import numpy as np

from ...data import EVAL_SPLITS, evaluation_batch
from ...nn import Model
from ._figures import figures
from ._metrics import attention, correlation, external, internal, reference_heads


SPLITS = EVAL_SPLITS


def eval_graphs(algo: str, split: str = "test", *, length: int | None = None, samples: int = 32, seed: int = 0):
    """The graphs faithfulness is scored on (``eqgat.data.evaluation_batch``).

    **Arguments:**

    - `algo`: the algorithm.
    - `split`: a CLRS-30 split (``"train"``, ``"val"``, ``"test"``) or ``"sampler"``
      (fresh test-distribution graphs: p = 0.5, ids i/n).
    - `length`: the graph size (default: the split's own; ``sampler``: 16).
    - `samples`, `seed`: the ``sampler`` graphs' count and seed (not used by a CLRS-30
      split).

    **Returns:**

    A ``Batch``.
    """
    if split == "sampler":
        return evaluation_batch(algo, split, length=length or None, samples=samples, seed=seed)
    return evaluation_batch(algo, split, length=length)


#: The compiled references φ_internal can be measured against.
REFERENCES = ("general", "paper")


def reference_model(algo: str, reference: str, nb_nodes: int) -> Model:
    """The compiled model whose attention is α*.

    **Arguments:**

    - `algo`: a registered algorithm with a program.
    - `reference`: ``"general"`` (state kept by ReLU gates) or ``"paper"`` (self-default
      through B = k·I; graph programs only).
    - `nb_nodes`: the graphs' size (the paper's B is n × n; the depth-first backend's
      ``max_nodes`` is at least this).

    **Returns:**

    The compiled ``Model``.
    """
    from ...algorithms import get_algorithm
    from ...compiler import DEFAULT_MAX_NODES, compile_program, compiled_algorithms
    from ...lang import DepthFirst

    if reference not in REFERENCES:
        raise ValueError(f"unknown reference {reference!r}; use one of {', '.join(REFERENCES)}")
    program = get_algorithm(algo).program
    if program is None:
        raise ValueError(f"no compiled {algo!r}; compiled algorithms: {', '.join(compiled_algorithms())}")
    if isinstance(program, DepthFirst):
        if reference == "paper":
            raise ValueError(f"{algo} has one compiled reference (full attention, the depth-first backend); "
                             "use reference='general'")
        return compile_program(program, max_nodes=max(DEFAULT_MAX_NODES, nb_nodes))
    if reference == "paper":
        return compile_program(program, mechanism="paper", nodes=nb_nodes)
    return compile_program(program)


def run(checkpoints: str | Path, algo: str, out: str | Path, *, split: str = "test", length: int | None = None,
        samples: int = 32, seed: int = 0, bins: int = 16, reference: str = "general") -> dict:
    """Score every ``seed*.eqx`` of a training run against the compiled model and write
    the results and figures (``python -m eqgat faithfulness``).

    **Arguments:**

    - `checkpoints`: a folder of ``seed*.eqx`` (a ``train`` run; ``seed*.json`` beside
      them give the test scores the correlations use).
    - `algo`: their algorithm.
    - `out`: the folder for ``faithfulness.json``, ``attention-best-vs-compiled.npz`` and
      the figures (``trace-accuracy.png``, ``attention-distance.png``,
      ``attention-heatmaps.png``, ``faithfulness-vs-accuracy.png``).
    - `split`, `length`, `samples`, `seed`: the graphs (``eval_graphs``).
    - `bins`: bins of normalised time.
    - `reference`: ``"general"`` or ``"paper"`` (``reference_model``).

    **Returns:**

    The summary written to ``faithfulness.json``: per seed its test score, φ_external
    and φ_internal curves and means, the compiled model's φ_external, and the
    correlations with the test score (with at least one scored seed).
    """
    from ...nn import load

    checkpoints, out = Path(checkpoints), Path(out)
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    paths = sorted(checkpoints.glob("seed*.eqx"), key=lambda p: int(p.stem[4:]) if p.stem[4:].isdigit() else 0)
    if not paths:
        raise ValueError(f"no seed*.eqx checkpoints in {checkpoints}")
    if reference not in REFERENCES:
        raise ValueError(f"unknown reference {reference!r}; use one of {', '.join(REFERENCES)}")
    batch = eval_graphs(algo, split, length=length, samples=samples, seed=seed)
    compiled = reference_model(algo, reference, batch.nb_nodes)
    rows = []
    for path in paths:
        model = load(path)
        if model.algorithm != algo:
            raise ValueError(f"{path} is a {model.algorithm} model, not {algo}")
        rec_path = path.with_suffix(".json")
        test = json.loads(rec_path.read_text()).get("test_score") if rec_path.exists() else None
        ext = external(model, batch, bins=bins)
        inn = internal(model, compiled, batch, bins=bins)
        rows.append({"checkpoint": str(path), "test_score": test,
                     "external": {k: v.tolist() for k, v in ext.items()},
                     "external_steps": {k: v.tolist() for k, v in external(model, batch, per_step=True).items()},
                     "internal_steps": inn["steps"].tolist(),
                     "external_mean": float(np.nanmean(np.concatenate(list(ext.values())))),
                     "internal": inn["best"].tolist(), "internal_mean": inn["mean"], "best_head": inn["best_head"]})
    ext_c = external(compiled, batch, bins=bins)
    graphs = {"split": split, "nb_nodes": batch.nb_nodes, "graphs": batch.batch_size}
    if split == "sampler":
        graphs.update(seed=seed, p=0.5)
    summary = {"algorithm": algo, "eval": graphs, "bins": bins, "reference": reference,
               "compiled_external": {k: v.tolist() for k, v in ext_c.items()}, "seeds": rows}
    scored = [r for r in rows if r["test_score"] is not None]
    if scored:
        t = [r["test_score"] for r in scored]
        summary["corr_internal_vs_test"] = correlation([r["internal_mean"] for r in scored], t)
        summary["corr_external_vs_test"] = correlation([r["external_mean"] for r in scored], t)
    out.mkdir(parents=True, exist_ok=True)
    (out / "faithfulness.json").write_text(json.dumps(summary, indent=2))
    best = min(rows, key=lambda r: r["internal_mean"])
    g = 0
    refs = reference_heads(compiled)
    learned_heads = best["best_head"] if isinstance(best["best_head"], list) else [best["best_head"]]
    a_best = attention(load(best["checkpoint"]), batch[g])[0][:, learned_heads]  # [T-1, heads, n, n]
    a_comp = attention(compiled, batch[g])[0][:, refs]
    np.savez(out / "attention-best-vs-compiled.npz", learned=a_best, compiled=a_comp, length=np.asarray(batch.length[g]))
    figures(summary, out, a_best, a_comp, int(batch.length[g]))
    return summary
