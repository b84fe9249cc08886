"""Training batches drawn by worker processes are the batches drawn in-process, and a
training run with workers equals one without."""

import jax
import numpy as np
import pytest

from eqgat.data.batches import SeedBatches, chunks
from eqgat.data import Sampler, derive_seed
from eqgat.workflows.training import TrainConfig, train


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


def _broken_reference(A, source=None):
    raise RuntimeError("this reference trace is broken")


def test_a_failing_worker_is_reported():
    import eqgat

    with pytest.raises(ValueError, match="unknown algorithm 'no-such-algorithm'"):  # refused before any worker starts
        SeedBatches("no-such-algorithm", [0], (4,), 2, batch_size=2, workers=1)
    broken = eqgat.get_algorithm("bfs").replace(name="broken_reference", reference=_broken_reference, program=None)
    eqgat.register_algorithm(broken)
    with pytest.raises(RuntimeError, match="(?s)data worker 0 failed.*this reference trace is broken"):
        with SeedBatches("broken_reference", [0], (4,), 2, batch_size=2, workers=1) as data:
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
    from eqgat.workflows.mmaps import memory_maps, release_if_crowded

    import sys

    n = memory_maps()
    if sys.platform == "linux":  # every map /proc lists, one per line
        assert n is not None and abs(n - len(open("/proc/self/maps").readlines())) < 50
    f = jax.jit(lambda x: x + 1)
    f(1.0)
    assert f._cache_size() == 1
    assert release_if_crowded(limit=10**9) is False and f._cache_size() == 1  # not crowded: nothing dropped
    assert release_if_crowded(limit=0) is (n is not None)
    assert f._cache_size() == (0 if n is not None else 1)  # crowded: JAX's compiled programs are dropped
