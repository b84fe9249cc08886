"""``reproduce(name, profile)``: run an entry's experiments (resuming per seed), measure
its figure's faithfulness, and write ``NAME.json`` / ``NAME.md`` beside the paper's numbers."""

import json
from pathlib import Path

from ._entries import ENTRIES, Entry
from ._profiles import Profile, get_profile
from ._report import FIGURE_FILES, figure_numbers, row_result, write
from ._runner import finished_records, run_experiment, summary


def get_entry(name: str) -> Entry:
    if name not in ENTRIES:
        raise ValueError(f"unknown entry {name!r}; `reproduce --list` lists them: {', '.join(ENTRIES)}")
    return ENTRIES[name]


def listing() -> str:
    """Every entry, its experiments and the paper's numbers, one block per entry."""
    lines = []
    for e in ENTRIES.values():
        lines.append(f"{e.name:9s} {e.title}")
        for r in e.rows:
            lines.append(f"{'':9s}   {r.label}: paper {r.paper or '-'} [experiment {r.experiment.key}]")
        if e.figure:
            lines.append(f"{'':9s}   faithfulness of experiment {e.figure.experiment.key}; the paper: {e.figure.claim}")
    return "\n".join(lines)


def _faithfulness(entry: Entry, profile: Profile, out: Path, records: list[dict]) -> dict:
    """φ_external / φ_internal of the figure's seeds (``eqgat.workflows.faithfulness.run``), kept in
    ``out/faithfulness/<key>`` and recomputed when the seeds or graphs change."""
    from .. import faithfulness

    fig = entry.figure
    exp = fig.experiment
    folder = out / "faithfulness" / exp.key
    graph_size = profile.graph_size
    want = {"split": profile.faithfulness_split, "samples": profile.faithfulness_samples, "length": graph_size,
            "checkpoints": [str(out / "runs" / exp.key / f"seed{r['seed']}.eqx") for r in records],
            "test_scores": [r["test_score"] for r in records]}  # a retrained seed changes its score
    stamp = folder / "made-from.json"
    if not (stamp.exists() and json.loads(stamp.read_text()) == want and (folder / "faithfulness.json").exists()):
        faithfulness.run(out / "runs" / exp.key, exp.algo, folder, split=profile.faithfulness_split,
                         length=graph_size, samples=profile.faithfulness_samples)
        stamp.write_text(json.dumps(want, indent=2))
    faith = json.loads((folder / "faithfulness.json").read_text())
    s = summary(records)
    return {"experiment": exp.key, "claim": fig.claim, "numbers": figure_numbers(fig, faith),
            "training": f"{s['n']} seeds, {', '.join(map(str, s['steps']))} steps, test {s['mean']:.2f} ± "
                        f"{s['std']:.2f} ({s['max']:.2f}) on {'; '.join(s['test_split'])}",
            "eval": faith["eval"], "images": [str(folder / f) for f in FIGURE_FILES[fig.show]]}


def default_out(profile: str) -> Path:
    """Where a profile's results go without ``--out``."""
    return Path("out") / "reproduce" / profile


def reproduce(name: str, profile: str | Profile = "cpu", out: str | Path | None = None, *, progress: bool = True,
              devices: int | None = None, workers: int = 0, seeds: int | None = None,
              parallel: int | None = None, report_only: bool = False, checkpoint_every: int = 1000,
              checkpoint_minutes: float = 10.0) -> dict:
    """Run entry ``name`` under ``profile`` in ``out`` (default ``out/reproduce/<profile>``);
    returns what ``NAME.json`` holds. ``seeds`` keeps only the profile's first seeds per row
    (a later call with more adds the rest), ``parallel`` sets how many train at once, and
    ``workers`` processes draw the batches; none of the three changes a seed's result.
    ``report_only`` trains nothing: it reports the seeds already finished in ``out`` (a
    row with none reads "not run"), e.g. while a long run is under way elsewhere. A group
    of seeds in flight saves its training state every ``checkpoint_every`` steps and
    ``checkpoint_minutes`` (``train``), so a stopped call continues it where it was."""
    entry = get_entry(name)
    profile = get_profile(profile) if isinstance(profile, str) else profile
    profile = profile.limited(seeds=seeds, parallel=parallel)
    out = Path(out) if out is not None else default_out(profile.name)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder (made if missing)")
    if report_only:
        records = {exp.key: finished_records(exp, profile, out) for exp in entry.experiments}
    else:
        from ..mmaps import release_if_crowded

        records = {}
        for exp in entry.experiments:
            records[exp.key] = run_experiment(exp, profile, out, progress=progress, devices=devices, workers=workers,
                                              checkpoint_every=checkpoint_every,
                                              checkpoint_minutes=checkpoint_minutes)
            release_if_crowded()  # a long `reproduce all` compiles many programs (eqgat.workflows.mmaps)
    rows = [row_result(r, summary(records[r.experiment.key]) if records[r.experiment.key] else None)
            for r in entry.rows]
    figure = None
    if entry.figure and records[entry.figure.experiment.key]:
        figure = _faithfulness(entry, profile, out, records[entry.figure.experiment.key])
    jpath, _ = write(entry, profile, out, rows, figure)
    return json.loads(jpath.read_text())
