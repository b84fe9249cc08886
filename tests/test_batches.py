"""Training batches drawn by worker processes are the batches drawn in-process, and a
training run with workers equals one without."""

import jax
import numpy as np
import pytest

from eqgat.batches import SeedBatches, chunks
from eqgat.data import Sampler, derive_seed
from eqgat.training import TrainConfig, train


def _leaves(batch):
    return [np.asarray(x) for x in jax.tree.leaves(batch)]


def test_chunks_cover_seeds_in_order():
    assert chunks([5, 6, 7, 8, 9], 2) == [[5, 6], [7, 8, 9]]
    assert sum(chunks(list(range(7)), 3), []) == list(range(7))
    assert chunks([1, 2], 8) == [[1], [2]]


def test_workers_draw_what_one_process_draws():
    seeds, lengths, steps = [3, 4, 5], (4, 6), 5
    kw = dict(batch_size=2, random_pos=True)
    with SeedBatches("bfs", seeds, lengths, steps, **kw) as local, \
            SeedBatches("bfs", seeds, lengths, steps, workers=2, **kw) as far:
        pairs = list(zip(local, far, strict=True))
    assert len(pairs) == steps
    for i, (a, b) in enumerate(pairs):
        n = lengths[i % len(lengths)]
        assert a.inputs["adj"].shape[:3] == (3, 2, n)
        for x, y in zip(_leaves(a), _leaves(b), strict=True):
            np.testing.assert_array_equal(x, y)
    # seed 4's batch at step 1 is what its own sampler draws second at that size (after step 0's size-4 draw)
    own = Sampler("bfs", 6, 2, seed=derive_seed(4, 6)).next()
    np.testing.assert_array_equal(np.asarray(pairs[1][0].inputs["adj"][1]), np.asarray(own.inputs["adj"]))


def test_a_failing_worker_is_reported():
    with pytest.raises(RuntimeError, match="data worker 0 failed"):
        with SeedBatches("no-such-algorithm", [0], (4,), 2, batch_size=2, workers=1) as data:
            list(data)


def test_training_with_workers_equals_training_without():
    cfg = TrainConfig(algo="bfs", train_lengths=(4, 5), steps=3, batch_size=2, seeds=2, val_every=0)
    a = train(cfg, test=False, progress=False)
    b = train(cfg, test=False, progress=False, workers=2)
    np.testing.assert_array_equal(a.losses, b.losses)
    for x, y in zip(jax.tree.leaves(a.models), jax.tree.leaves(b.models), strict=True):
        if hasattr(x, "shape"):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_compiled_programs_are_released_when_maps_crowd():
    from eqgat.mmaps import memory_maps, release_if_crowded

    n = memory_maps()
    assert n is None or n > 0
    assert release_if_crowded(limit=10**9) is False
    assert release_if_crowded(limit=0) is (n is not None)
