"""An entry's result: its rows (eqgat's mean ± std (max) beside the paper's, printed as
the paper prints them) or its figure's numbers, as ``NAME.json`` and ``NAME.md``."""

import json
import os
from pathlib import Path

import numpy as np

from ._entries import Entry, Figure, Paper, Row
from ._profiles import PROFILES


def fmt(mean: float, std: float, mx: float | None = None) -> str:
    """``82.04 ± 15.55 (100.00)``: the paper's format (in %, two decimals)."""
    return str(Paper(mean, std, mx))


def reasons(row: Row, s: dict, profile=None) -> list[str]:
    """Why a row differs from the paper, from the evidence the run keeps: the step budget
    (seeds whose validation was still improving at the end of fewer steps than the
    paper's), the seed count (a difference within two standard errors of eqgat's own
    mean), the stability protocol (no selection: where training ends); "unexplained" when
    none applies."""
    out = []
    paper_steps = _paper_steps(row)
    steps = max(s["steps"], default=None)
    if s.get("validated") and s.get("improving", 0) * 2 >= s["validated"] and steps and paper_steps \
            and steps < paper_steps:
        out.append(f"step budget: {s['improving']} of {s['validated']} seeds were still improving at the end "
                   f"(best validation in the last tenth of {steps} steps; the paper trains {paper_steps})")
    se = 2 * s["std"] / np.sqrt(max(s["n"], 1))
    if abs(s["mean"] - row.paper.mean) <= se:
        out.append(f"seed count: the difference is within 2 standard errors of the mean of {s['n']} seeds "
                   f"(±{se:.2f}); the paper draws {128 * 8 if row.experiment.minimal else 128}")
    if row.experiment.kind == "stability":
        out.append("protocol: a stability row keeps where training from the compiled model ends (no selection); the "
                   "paper does not say which it keeps")
    return out or ["unexplained"]


def _paper_steps(row: Row) -> int:
    from ..training import TrainConfig

    return int(row.experiment.train.get("steps", TrainConfig.steps))


def row_result(row: Row, s: dict | None) -> dict:
    """A row's JSON: eqgat's summary (None: no seed finished yet), the paper's number,
    whether they differ by more than the paper's spread (its std), and why (``reasons``)."""
    text = "not run" if s is None else fmt(s["mean"], s["std"], s["max"])
    out = {"label": row.label, "experiment": row.experiment.key, "eqgat": s, "eqgat_text": text,
           "paper": None, "paper_text": "-", "delta": None, "differs": None}
    if row.paper is not None:
        out.update(paper={"mean": row.paper.mean, "std": row.paper.std, "max": row.paper.max},
                   paper_text=str(row.paper))
    if row.paper is not None and s is not None:
        delta = s["mean"] - row.paper.mean
        differs = bool(abs(delta) > row.paper.std)
        out.update(delta=delta, differs=differs, reasons=reasons(row, s) if differs else [])
    return out


def _ci(c: dict) -> str:
    if c is None or not np.isfinite(c.get("r", np.nan)):
        return f"undefined (n = {c.get('n') if c else 0}: needs >= 4 seeds with spread)"
    lo, hi = c["ci95"]
    sig = "significant" if lo > 0 or hi < 0 else "not significant"
    return f"r = {c['r']:.2f}, 95% CI [{lo:.2f}, {hi:.2f}], n = {c['n']} ({sig})"


def _mean_std(values) -> str:
    """Mean ± std over seeds of the finite values, or 'n/a' when there are none."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return f"{v.mean():.3f} ± {v.std():.3f}" if len(v) else "n/a (no seed has such steps)"


def figure_numbers(fig: Figure, faith: dict) -> list[dict]:
    """The numbers a figure's claim rests on, from ``eqgat.workflows.faithfulness.run``'s summary."""
    seeds = faith["seeds"]
    if fig.show == "correlation":
        return [
            {"label": "φ_external vs test accuracy", "value": _ci(faith.get("corr_external_vs_test"))},
            {"label": "φ_internal vs test accuracy", "value": _ci(faith.get("corr_internal_vs_test"))},
            {"label": "φ_external (mean over time, seeds)", "value": _mean_std([r["external_mean"] for r in seeds])},
            {"label": "φ_internal (mean over time, seeds)", "value": _mean_std([r["internal_mean"] for r in seeds])},
        ]
    if fig.show == "trace":
        out = []
        for probe in seeds[0]["external"]:
            curves = np.array([r["external"][probe] for r in seeds], float)
            first, last = np.nanmean(curves[:, 0]), np.nanmean(curves[:, -1])
            out.append({"label": f"{probe}: φ_external, first → last time bin", "value": f"{first:.3f} → {last:.3f}"})
        return out
    if fig.show == "attention-time":
        def part(curve):
            c = np.asarray(curve, float)
            c = c[np.isfinite(c)]
            return c.mean() if len(c) else np.nan

        early = [part(r["internal_steps"][:2]) for r in seeds]
        late = [part(r["internal_steps"][2:]) for r in seeds]
        return [{"label": "φ_internal, steps 0-1", "value": _mean_std(early)},
                {"label": "φ_internal, steps >= 2", "value": _mean_std(late)}]
    best = min(seeds, key=lambda r: r["internal_mean"])
    return [{"label": "best-matching seed", "value": f"{Path(best['checkpoint']).stem}: φ_internal {best['internal_mean']:.3f}"},
            {"label": "φ_internal over all seeds", "value": _mean_std([r["internal_mean"] for r in seeds])}]


FIGURE_FILES = {"correlation": ["faithfulness-vs-accuracy.png"], "trace": ["trace-accuracy.png"],
                "attention-time": ["attention-distance.png"], "attention-best": ["attention-heatmaps.png"]}


def write(entry: Entry, profile, out: Path, rows: list[dict], figure: dict | None) -> tuple[Path, Path]:
    """``out/NAME.json`` and ``out/NAME.md``."""
    out.mkdir(parents=True, exist_ok=True)
    payload = {"entry": entry.name, "title": entry.title, "profile": profile.to_dict(), "rows": rows,
               "figure": figure, "note": entry.note}
    jpath = out / f"{entry.name}.json"
    jpath.write_text(json.dumps(payload, indent=2))
    full = PROFILES.get(profile.name, profile).seeds  # a profile of the caller's own: its own count
    cut = "" if profile.seeds == full else f", cut to its first {profile.seeds} (`--seeds {profile.seeds}`)"
    minimal = "" if not any(r.experiment.minimal for r in entry.rows) else \
        f" ({PROFILES.get(profile.name, profile).minimal_seeds} for the minimal networks)"
    lines = [f"# {entry.title}", "", f"Profile `{profile.name}`: {full} seeds per row{minimal}{cut}. eqgat's numbers: "
             "mean ± std (max) over the seeds finished, test accuracy in %, std over seeds as the paper's "
             "tables.", ""]
    if getattr(profile, "select", "last") == "best_val":
        lines += [f"Each seed keeps its parameters of its best validation score (validated every {profile.val_every} "
                  "steps, as dm-clrs' `run.py`); stability rows keep where training ends.", ""]
    if rows:
        lines += ["| Experiment | eqgat | paper | seeds | steps | wall time | device | differs |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            e = r["eqgat"] or {"n": 0, "steps": [], "seconds": 0.0, "devices": [], "test_split": []}
            differs = "-" if r["differs"] is None else ("**yes**" if r["differs"] else "no")
            wall = f"{e['seconds']:.0f} s" if e["n"] else "-"
            lines.append(f"| {r['label']} | {r['eqgat_text']} | {r['paper_text']} | {e['n']} | "
                         f"{', '.join(map(str, e['steps']))} | {wall} | {', '.join(e['devices'])} | {differs} |")
        tested = sorted({t for r in rows if r["eqgat"] for t in r["eqgat"]["test_split"]})
        total = sum(r["eqgat"]["seconds"] for r in rows if r["eqgat"])
        lines += ["", f"Tested on: {'; '.join(tested) or 'nothing yet'}.",
                  "'differs': the means differ by more than the paper's std.",
                  f"Wall time: {total:.0f} s over these rows (each row's seeds summed; rows shared with other "
                  "entries count once per entry)."]
        why = [r for r in rows if r.get("reasons")]
        if why:
            lines += ["", "Why rows differ (from each run's records; `unexplained` when none applies):", ""]
            lines += [f"- {r['label']}: " + "; ".join(r["reasons"]) + "." for r in why]
    if figure:
        ev = figure["eval"]
        lines += [f"Seeds of experiment `{figure['experiment']}`: {figure['training']}.", "",
                  f"φ measured on {ev['graphs']} graphs of the {ev['split']} split (n = {ev['nb_nodes']}); "
                  "φ_internal against the compiled general mechanism's attention.", "",
                  f"The paper: {figure['claim']}.", "", "| Quantity | eqgat |", "|---|---|"]
        lines += [f"| {n['label']} | {n['value']} |" for n in figure["numbers"]]
        lines += [""] + [f"![{Path(p).stem}]({os.path.relpath(p, out)})" for p in figure["images"]]
    if entry.note:
        lines += ["", entry.note]
    mpath = out / f"{entry.name}.md"
    mpath.write_text("\n".join(lines) + "\n")
    return jpath, mpath
