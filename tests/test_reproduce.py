"""``python -m eqgat reproduce``: every entry passes its smoke profile (two groups of
entries that share no experiment, one per test worker), results sit beside the paper's
numbers, runs resume per seed and refuse other settings."""

import dataclasses
import json
import os

import numpy as np
import pytest

import eqgat
from eqgat.cli import main
from eqgat.workflows.reproduce import ENTRIES, PROFILES, reproduce
from eqgat.workflows.reproduce import fmt

#: The issue's list: tables 2, 3, 5, 7-13 and figures 1-5; and the supervision experiment.
NAMES = (["table2", "table3", "table5"] + [f"table{k}" for k in range(7, 14)] + [f"figure{k}" for k in range(1, 6)]
         + ["supervision"])
#: Two groups of entries with no experiment in common (each group shares its own runs).
GROUP_A = ["table5", "figure1", "figure2", "figure3", "figure4", "figure5", "table2", "table10", "table13",
           "supervision"]
GROUP_B = ["table3", "table7", "table8", "table9", "table11", "table12"]


def test_every_entry_is_listed_and_the_groups_cover_them(capsys):
    assert sorted(ENTRIES) == sorted(NAMES)
    assert sorted(GROUP_A + GROUP_B) == sorted(NAMES)
    shared = {e.key for n in GROUP_A for e in ENTRIES[n].experiments} & {e.key for n in GROUP_B for e in ENTRIES[n].experiments}
    assert not shared
    assert main(["reproduce", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in NAMES)
    assert "82.04 ± 15.55 (100.00)" in listed  # table 12's BFS row, as the paper prints it


def test_numbers_are_printed_as_the_paper_prints_them():
    assert fmt(82.04, 15.55) == "82.04 ± 15.55"
    assert fmt(98.3, 0.971, 100.0) == "98.30 ± 0.97 (100.00)"


def test_bad_names_and_profiles_are_errors(capsys, tmp_path):
    assert main(["reproduce", "table4", "--profile", "smoke", "--out", str(tmp_path)]) == 2
    assert "unknown entry 'table4'" in capsys.readouterr().err
    assert main(["reproduce", "--profile", "smoke"]) == 2
    (tmp_path / "file").write_text("")
    assert main(["reproduce", "table5", "--profile", "smoke", "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reproduce", "table5", "--profile", "gpu"])


def _check(res, name, out):
    from eqgat.workflows.reproduce import train_config
    from eqgat.workflows.training import eval_batch

    entry = ENTRIES[name]
    assert res["entry"] == name and res["profile"]["name"] == "smoke"
    assert len(res["rows"]) == len(entry.rows)
    for row, r in zip(entry.rows, res["rows"], strict=True):
        e = r["eqgat"]
        assert e["n"] == 2 and e["steps"] == [2] and len(e["devices"]) == 1
        assert e["mean"] == pytest.approx(np.mean(e["scores"]), abs=1e-4)
        if row.experiment.kind == "train":  # each reported score is its saved seed's, re-scored here
            cfg = train_config(row.experiment, PROFILES["smoke"])
            batch = eval_batch(cfg, "test")
            for k, reported in enumerate(e["scores"]):
                model = eqgat.load(out / "runs" / row.experiment.key / f"seed{k}.eqx")
                assert 100 * eqgat.score(model, batch) == pytest.approx(reported, abs=1e-4), (name, row.label, k)
        assert r["paper_text"] == (str(row.paper) if row.paper else "-")
        assert r["eqgat_text"] == fmt(e["mean"], e["std"], e["max"])
    if entry.figure:
        assert res["figure"]["numbers"] and all(os.path.exists(p) for p in res["figure"]["images"])


def _run_group(names, out):
    for name in names:
        res = reproduce(name, "smoke", out, progress=False)
        _check(res, name, out)
        md = (out / f"{name}.md").read_text()
        assert md.startswith("# ") and all(r["paper_text"] in md and r["eqgat_text"] in md for r in res["rows"])
        # the report is made again from the records on disk alone, identically
        again = reproduce(name, "smoke", out, progress=False, report_only=True)
        assert again["rows"] == res["rows"] and json.loads((out / f"{name}.json").read_text()) == again


def test_smoke_group_a_and_per_seed_resume(tmp_path):
    _run_group(GROUP_A, tmp_path)
    run = tmp_path / "runs" / "bfs"
    before = json.loads((run / "seed1.json").read_text())["test_score"]
    kept = (run / "seed0.eqx").stat().st_mtime_ns
    (run / "seed1.json").unlink()  # seed 1 unfinished: only it is trained again, alone
    res = reproduce("table5", "smoke", tmp_path, progress=False)
    assert (run / "seed0.eqx").stat().st_mtime_ns == kept
    assert json.loads((run / "seed1.json").read_text())["test_score"] == pytest.approx(before, abs=1e-6)
    assert res["rows"][0]["eqgat"]["n"] == 2
    # --report-only trains nothing and reads what is there; --seeds 1 keeps the first seed of each row
    assert reproduce("table5", "smoke", tmp_path, progress=False, report_only=True)["rows"] == res["rows"]
    first = reproduce("table5", "smoke", tmp_path, progress=False, report_only=True, seeds=1)
    assert [r["eqgat"]["n"] for r in first["rows"]] == [1, 1, 1]
    assert first["rows"][0]["eqgat"]["scores"] == res["rows"][0]["eqgat"]["scores"][:1]
    assert "cut to its first 1 (`--seeds 1`)" in (tmp_path / "table5.md").read_text()
    # other settings in the same folder: refused, naming the setting
    other = dataclasses.replace(PROFILES["smoke"], min_steps=3)
    with pytest.raises(ValueError, match=r"config.steps: 2 there, 3 now"):
        reproduce("table5", other, tmp_path, progress=False)


@pytest.mark.slow  # ~100 s on 2 cores: with the slow tests, so that `make test` stays near 10 minutes
def test_smoke_group_b(tmp_path):
    _run_group(GROUP_B, tmp_path)
    stab = json.loads((tmp_path / "table12.json").read_text())
    assert [r["experiment"] for r in stab["rows"]] == ["bellman_ford-stability", "bfs-stability",
                                                       "bellman_ford-stability-paper", "bfs-stability-paper"]
    paper = json.loads((tmp_path / "runs" / "bfs-stability-paper" / "stability.json").read_text())
    assert paper["config"]["mechanism"] == "paper" and paper["config"]["nodes"] == 5  # the smoke profile's size
    first = reproduce("table12", "smoke", tmp_path, progress=False, report_only=True, seeds=1)
    assert [r["eqgat"]["n"] for r in first["rows"]] == [1, 1, 1, 1]
    assert [r["eqgat"]["scores"] for r in first["rows"]] == [r["eqgat"]["scores"][:1] for r in stab["rows"]]


def test_report_only_trains_nothing(tmp_path, capsys):
    assert main(["reproduce", "table10", "--profile", "smoke", "--out", str(tmp_path), "--report-only"]) == 0
    assert "eqgat not run" in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()
    md = (tmp_path / "table10.md").read_text()
    assert md.count("| not run |") == 3 and "Tested on: nothing yet." in md


def test_a_differing_row_gets_the_reason_its_records_show():
    """Step budget when most seeds' validation was still rising in the last tenth of their
    steps; seed count when the difference is inside two standard errors of eqgat's mean;
    'unexplained' otherwise; no reason for a row that does not differ."""
    from eqgat.workflows.reproduce import row_result, still_improving, summary

    row = ENTRIES["table5"].rows[0]  # BFS: 98.30 ± 0.97, 10,000 steps in the paper

    def record(score, best_step, steps=2000):
        val = [{"step": k, "score": 0.5 + (k == best_step) * 0.1} for k in range(50, steps + 1, 50)]
        return {"test_score": score, "val": val, "steps": steps, "seconds": 1.0, "device": "CPU"}

    assert still_improving(record(0.9, 1950)) is True and still_improving(record(0.9, 500)) is False
    assert still_improving({"test_score": 0.9}) is None
    rising = row_result(row, summary([record(0.90, 2000), record(0.92, 1950), record(0.91, 300)]))
    assert rising["differs"] and rising["reasons"][0].startswith("step budget: 2 of 3 seeds")
    levelled = row_result(row, summary([record(0.90, 500), record(0.92, 400), record(0.91, 300)]))
    assert levelled["reasons"] == ["unexplained"]
    noisy = row_result(row, summary([record(0.60, 500), record(1.00, 400)]))  # mean 80 ± 20: 2 SE = 28
    assert any(r.startswith("seed count") for r in noisy["reasons"])
    close = row_result(row, summary([record(0.98, 2000)]))
    assert not close["differs"] and close["reasons"] == []
