"""``verify``: near-ties classified from dm-clrs' float64 values only, margins, seeds of
63 bits, and clear errors for bad flags."""

import json

import equinox as eqx
import jax
import numpy as np
import pytest

import eqgat
from eqgat import data, programs
from eqgat.compiler import compile_stages
from eqgat.cli import main
from eqgat.workflows.verification import check_batch, near_ties
from eqgat import verify_algorithm as verify


def _two_paths(w13: float, w23: float) -> np.ndarray:
    """Source 0 reaches node 3 through 1 (0.5 + w13) and through 2 (0.5 + w23)."""
    A = np.zeros((4, 4))
    for i, j, w in ((0, 1, 0.5), (0, 2, 0.5), (1, 3, w13), (2, 3, w23)):
        A[i, j] = A[j, i] = w
    return A


def _arrays(A):
    return data.graph_arrays("bellman_ford", A, source=0)


def test_near_ties_come_from_dm_clrs_float64_values():
    r = compile_stages(programs.bellman_ford).constants.resolution
    close = near_ties("bellman_ford", _arrays(_two_paths(0.25, 0.25 - 1e-5)), r, 128)
    # node 3 from step 1 on (the two paths stay 1e-5 apart, under the resolution), no one else
    assert close[0, 1, 3] and not close[0, 0].any() and not close[..., :3].any()
    exact = near_ties("bellman_ford", _arrays(_two_paths(0.25, 0.25)), r, 128)
    assert not exact.any()  # an exact tie is not a near-tie: it must resolve by index
    apart = near_ties("bellman_ford", _arrays(_two_paths(0.25, 0.25 - 0.01)), r, 128)
    assert not apart.any()
    # 0.1 + 0.2 != 0.3 in float64 (by 5.6e-17): a near-tie, whatever float32 makes of it
    A = np.zeros((4, 4))
    for i, j, w in ((0, 1, 0.1), (0, 2, 0.3), (1, 3, 0.2)):
        A[i, j] = A[j, i] = w
    A[2, 3] = A[3, 2] = 1e-300  # an edge of weight ~0: node 3 sees 0.3 + 1e-300 = 0.3 via node 2
    assert near_ties("bellman_ford", _arrays(A), r, 128)[0, 1, 3]


def test_a_near_tie_miss_passes_and_any_other_miss_fails():
    comp = compile_stages(programs.bellman_ford)
    model = eqgat.compile_program(programs.bellman_ford)
    # truth: node 2's path is 1e-5 shorter; the float32 model resolves it by index (node 1)
    ok, nt, m = check_batch(model, comp, _arrays(_two_paths(0.25, 0.25 - 1e-5)), np.float32)
    assert not ok["pi"][0] and nt[0].any() and m.near_tie_graphs == 1
    # a broken model misses where dm-clrs' values are far apart: not a near-tie
    broken = eqx.tree_at(lambda mo: mo.processor.omega, model, -model.processor.omega)
    ok, nt, _ = check_batch(broken, comp, _arrays(_two_paths(0.25, 0.5)), np.float32)
    assert not ok["pi"][0] and not nt.any()
    report = verify("bellman_ford", None, (6,), graphs="families", model=broken, max_nodes=16)
    assert not report.exact and any(r.misses for r in report.rows)


@pytest.mark.parametrize("seed", ["8675309", str(2**63 - 1)])
def test_any_63_bit_seed_is_accepted(seed, capsys):
    assert main(["verify", "--algo", "bfs", "--lengths", "4", "--samples", "2", "--seed", seed]) == 0
    assert "EXACT" in capsys.readouterr().out


def test_seeds_are_derived_per_stream():
    a, b = data.derive_seed(2**63 - 1, 16, 0), data.derive_seed(2**63 - 1, 16, 1)
    assert a != b and 0 <= a < 2**32 and a == data.derive_seed(2**63 - 1, 16, 0)
    with pytest.raises(ValueError, match=r"\[0, 2\*\*63 - 1\]"):
        data.derive_seed(2**63)


def test_json_carries_margins_and_near_tie_counts(capsys):
    assert main(["verify", "--algo", "bellman_ford", "--graphs", "families", "--lengths", "5",
                 "--max-nodes", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exact"] and out["near_ties"] == 0 and out["max_nodes"] == 8
    m = out["margins"]
    assert m["min_logit_gap"] >= 40 and m["min_gate_slack"] == 0.5 and 0 < m["max_rounding_ratio"] < 1
    assert out["resolution"] == compile_stages(programs.bellman_ford, max_nodes=8).constants.resolution
    assert {r["distribution"] for r in out["rows"]} >= {"grid", "complete", "no edges"}


def test_table_prints_resolution_and_worst_margins(capsys):
    assert main(["verify", "--algo", "bfs", "--graphs", "exhaustive", "--max-nodes", "5"]) == 0
    out = capsys.readouterr().out
    assert "resolution" in out and "worst margins: logit gap" in out and "exhaustive" in out


def test_bad_flags_are_clear_errors(capsys):
    for argv, msg in ((["--graphs", "bogus"], "invalid choice: 'bogus'"),
                      (["--max-nodes", "0"], "must be positive, got 0"),
                      (["--seed", "-1"], "must lie in [0, 2**63 - 1]")):
        with pytest.raises(SystemExit) as e:
            main(["verify", "--algo", "bfs", *argv])
        assert e.value.code == 2 and msg in capsys.readouterr().err
    assert main(["verify", "--algo", "bfs", "--lengths", "16", "--max-nodes", "8"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "larger than --max-nodes 8" in err and "Traceback" not in err
    assert main(["verify", "--algo", "bfs", "--graphs", "exhaustive", "--max-nodes", "4"]) == 2
    assert "[5] nodes are larger than --max-nodes 4" in capsys.readouterr().err


def test_values_beyond_the_bound_are_an_error():
    from eqgat.workflows.verification import check_values

    A = 3.0 * (np.eye(8, k=1) + np.eye(8, k=-1))  # a path of weight 3: distances reach 21
    with pytest.raises(ValueError, match="beyond the compiled value bound 16"):
        check_values("bellman_ford", data.graph_arrays("bellman_ford", A, source=0), 16.0, "path")


def test_compile_cli_writes_max_nodes_and_minimal_size(tmp_path, capsys):
    out = tmp_path / "bf.eqx"
    assert main(["compile", "--algo", "bellman_ford", "--max-nodes", "32", "--out", str(out)]) == 0
    meta = json.loads((tmp_path / "bf.eqx.json").read_text())
    assert meta["info"]["max_nodes"] == 32 and meta["model"]["hidden_size"] == eqgat.minimal_hidden_size(programs.bellman_ford)
    assert "up to 32 nodes" in capsys.readouterr().out
    model = eqgat.load(out)
    ref = eqgat.compile_program(programs.bellman_ford, max_nodes=32)
    for a, b in zip(jax.tree.leaves(model), jax.tree.leaves(ref), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(SystemExit):
        main(["compile", "--algo", "bfs", "--max-nodes", "0", "--out", str(out)])


def test_compiled_checkpoints_keep_their_layout_for_show(tmp_path, capsys, monkeypatch):
    from eqgat.compiler import Layout, compile_stages

    out = tmp_path / "bf.eqx"
    assert main(["compile", "--algo", "bellman_ford", "--hidden-size", "8", "--out", str(out)]) == 0
    stored = Layout.from_dict(json.loads((tmp_path / "bf.eqx.json").read_text())["info"]["layout"])
    assert stored == compile_stages(programs.bellman_ford, 8).layout  # typed directions round-trip
    import eqgat.workflows.show as show

    drawn = []
    heat = show._heat
    monkeypatch.setattr(show, "_heat", lambda ax, W, rows, cols, title: drawn.append((title, rows, cols, np.asarray(W)))
                        or heat(ax, W, rows, cols, title))
    assert main(["show", "--checkpoint", str(out), "--out", str(tmp_path / "bf.png")]) == 0
    assert (tmp_path / "bf.png").exists() and (tmp_path / "bf-aux.png").exists()
    # what is drawn: the checkpoint's weights at the stored layout's named rows and columns
    panels = {title: (rows, cols, W) for title, rows, cols, W in drawn}
    model = eqgat.load(out)
    rows, cols, W = panels["W_val (values ν)"]
    assert rows == [f"H:{h}" for h in stored.H] and cols == [f"V:{v}" for v in stored.V] + rows
    H_rows = list(stored.H_rows)
    C = [stored.v(str(v)) for v in stored.V] + [8 + r for r in H_rows]
    np.testing.assert_array_equal(W, np.asarray(model.processor.W_val.weight)[H_rows][:, C])
    assert panels["ω (attention heads)"][0] == ["ω head 0"] and np.abs(panels["ω (attention heads)"][2]).max() > 0
    assert any(title.startswith("decoder") or "pi" in title for title in panels)  # the aux figure's probes
    trained = eqgat.save(tmp_path / "t.eqx", eqgat.Model(eqgat.ModelConfig("bfs", 8), key=jax.random.key(0)))
    assert main(["show", "--checkpoint", str(trained), "--out", str(tmp_path / "t.png")]) == 2
    assert "has no compiler layout" in capsys.readouterr().err


def test_commands_are_quiet_unless_verbose():
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "eqgat", "verify", "--algo", "bfs", "--lengths", "4", "--samples", "1"]
    quiet = subprocess.run(cmd, capture_output=True, text=True)
    assert quiet.returncode == 0 and "EXACT" in quiet.stdout
    noise = ("oneDNN", "absl", "cuda", "I0000", "Sampling dataset")
    assert not any(w in quiet.stderr + quiet.stdout for w in noise), quiet.stderr
    loud = subprocess.run([sys.executable, "-m", "eqgat", "--verbose", *cmd[3:]], capture_output=True, text=True)
    assert loud.returncode == 0 and "EXACT" in loud.stdout
    # what the quiet default changes and --verbose leaves alone: absl's verbosity (dm-clrs'
    # warnings such as "Increasing hint lengh" go through it)
    probe = "import sys; from eqgat.cli import main; from absl import logging as l; main(sys.argv[1:]); print(l.get_verbosity())"
    said = lambda *flags: subprocess.run([sys.executable, "-c", probe, *flags, *cmd[3:]], capture_output=True,  # noqa: E731
                                         text=True).stdout.split()[-1]
    from absl import logging as absl_logging

    assert said() == str(absl_logging.ERROR)
    assert said("--verbose") == str(absl_logging.WARNING)  # absl's own default, untouched
