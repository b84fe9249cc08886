"""The paper authors' extra algorithms: references against hand-worked traces, sampled
data against the references, and training and evaluation on both."""

import numpy as np
import pytest

import eqgat
from eqgat import data
from eqgat.data import fork
from eqgat.algorithms import time_bucket


def _rows(hints, *names):
    return [tuple(h[k].tolist() for k in names) for h in hints]


def test_bfs_seq_on_a_path_by_hand():
    # path 0 - 1 - 2 from 0. Round 1: a hint before it, one for the edge 0->1 (1 gets its
    # parent; reach_h is the start-of-round copy). Round 2: edges out of {0, 1}: 0->1,
    # 1->0, 1->2 (2 gets parent 1). Round 3 changes nothing: one hint per edge, then stop.
    A = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    hints, pi = fork.bfs_seq_trace(A, 0)
    r1, r2, r3 = [1, 0, 0], [1, 1, 0], [1, 1, 1]
    assert _rows(hints, "reach_h", "pi_h") == [
        (r1, [0, 1, 2]), (r1, [0, 0, 2]),
        (r2, [0, 0, 2]), (r2, [0, 0, 2]), (r2, [0, 0, 1]),
        (r3, [0, 0, 1]), (r3, [0, 0, 1]), (r3, [0, 0, 1]), (r3, [0, 0, 1]),
    ]
    assert pi.tolist() == [0, 0, 1]


def test_bfs_seq_from_an_isolated_source_and_with_a_self_loop():
    A = np.zeros((3, 3))
    A[1, 2] = A[2, 1] = 1
    hints, pi = fork.bfs_seq_trace(A, 0)
    assert _rows(hints, "reach_h", "pi_h") == [([1, 0, 0], [0, 1, 2])] and pi.tolist() == [0, 1, 2]
    A[0, 0] = 1  # a self loop is an edge out of a reached node: one hint per round, no pointer
    hints, pi = fork.bfs_seq_trace(A, 0)
    assert _rows(hints, "reach_h", "pi_h") == [([1, 0, 0], [0, 1, 2])] * 2 and pi.tolist() == [0, 1, 2]


def test_dfs_light_by_hand():
    # 0 -> 1 -> 2, 0 -> 2, node 3 alone. Root 0: its hint, grey, push 1, push 2 (from 1),
    # pop 2, pop 1 (its only white neighbour is gone), pop 0; root 3: hint, grey, pop.
    A = np.zeros((4, 4))
    A[0, 1] = A[1, 2] = A[0, 2] = 1
    hints, pi = fork.dfs_light_trace(A)
    assert _rows(hints, "pi_h", "color") == [
        ([0, 1, 2, 3], [0, 0, 0, 0]), ([0, 1, 2, 3], [1, 0, 0, 0]),
        ([0, 0, 2, 3], [1, 1, 0, 0]), ([0, 0, 1, 3], [1, 1, 1, 0]),
        ([0, 0, 1, 3], [1, 1, 2, 0]), ([0, 0, 1, 3], [1, 2, 2, 0]), ([0, 0, 1, 3], [2, 2, 2, 0]),
        ([0, 0, 1, 3], [2, 2, 2, 0]), ([0, 0, 1, 3], [2, 2, 2, 1]), ([0, 0, 1, 3], [2, 2, 2, 2]),
    ]
    assert pi.tolist() == [0, 0, 1, 3] and len(hints) == 2 * 4 + 2  # 2n + roots


def test_dfs_light_backtracks_to_a_branch():
    # 0 -> 1, 0 -> 2, 1 -> 3: after 3 and 1 are popped, 0 pushes 2
    A = np.zeros((4, 4))
    A[0, 1] = A[0, 2] = A[1, 3] = 1
    hints, pi = fork.dfs_light_trace(A)
    assert pi.tolist() == [0, 0, 0, 1]
    colors = [h["color"].tolist() for h in hints]
    assert colors[-1] == [2, 2, 2, 2] and [1, 2, 1, 2] in colors and len(hints) == 2 * 4 + 1


@pytest.mark.parametrize("algo", ["bfs_seq", "dfs_light"])
def test_sampled_data_follow_the_reference_and_train(algo, tmp_path):
    from eqgat.workflows.training import TrainConfig, train

    arrays = data.Sampler(algo, 7, 6, seed=1).next_arrays()
    for g in range(6):
        A = arrays.inputs["A"][g]
        s = int(np.argmax(arrays.inputs["s"][g])) if "s" in arrays.inputs else None
        hints, pi = fork.bfs_seq_trace(A, s) if algo == "bfs_seq" else fork.dfs_light_trace(A)
        assert int(arrays.lengths[g]) == len(hints)
        np.testing.assert_array_equal(arrays.outputs["pi"][g], pi)
        for t, h in enumerate(hints):
            np.testing.assert_array_equal(arrays.hints["pi_h"][g, t], h["pi_h"])
            if algo == "dfs_light":
                np.testing.assert_array_equal(np.argmax(arrays.hints["color"][g, t], -1), h["color"])
            else:
                np.testing.assert_array_equal(arrays.hints["reach_h"][g, t], h["reach_h"])
    T = arrays.hints["pi_h"].shape[1]
    # padded to the bucket of the longest trace dm-clrs has drawn (it warms up on 1000 graphs)
    assert T >= arrays.lengths.max() and T == time_bucket(algo, 7, T)
    cfg = TrainConfig(algo=algo, model=eqgat.ModelConfig(algo, 8), train_lengths=(5,), steps=2, batch_size=2,
                      val_every=1, val_length=5, test_length=5)
    res = train(cfg, out=tmp_path / "run", progress=False)
    assert len(res.val) == 2 and res.test_scores is not None and res.skipped == [0]


def test_bfs_seq_time_buckets_are_powers_of_two_within_the_bound():
    assert [time_bucket("bfs_seq", 16, T) for T in (1, 9, 64, 65, 400)] == [8, 16, 64, 128, 512]
    assert time_bucket("bfs_seq", 2, 9) == 9  # never above the worst case, 1 + n³
    assert time_bucket("dfs_light", 5, 3) == 15 == eqgat.max_trace_length("dfs", 5)
