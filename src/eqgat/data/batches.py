"""Training batches of many seeds: at step ``i`` every seed draws a batch of graphs of size
``train_lengths[i % L]`` from its own sampler (seed ``derive_seed(s, n)``), and the batches
are stacked on a leading seed axis, ``[seeds, b, ...]``.

Drawing is NumPy work on the host (dm-clrs' samplers, ~3-30 ms per batch of 32), which
for many seeds outlasts a GPU step. ``workers`` > 0 spreads the seeds over that many
processes, each drawing its seeds' batches ahead of the training loop; the batches are
the same, draw for draw, as with ``workers=0`` (each seed's sampler lives in exactly one
process and is drawn in step order).
"""

import multiprocessing as mp
import os
import pickle
import queue
import signal
import traceback
from collections.abc import Iterator, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..algorithms import Algorithm, get_algorithm, register_algorithm
from . import Arrays, Batch

_POLL_S = 1.0  # how often a waiting loop checks that its workers are alive


def _samplers(algo: str, batch_size: int, random_pos: bool, lengths: Sequence[int], seeds: Sequence[int],
              states: dict | None = None) -> dict:
    """Each size's samplers, one per seed; with ``states`` (``SeedBatches.states``), each
    continues from its saved state (a sampler with none had drawn nothing yet)."""
    from . import Sampler, derive_seed

    samplers = {n: [Sampler(algo, n, batch_size, seed=derive_seed(s, n), random_pos=random_pos) for s in seeds]
                for n in sorted(set(lengths))}
    states = states or {}
    for n, row in samplers.items():
        for s, sampler in zip(seeds, row):
            if state_key(s, n) in states:
                sampler.set_state(states[state_key(s, n)])
    return samplers


def state_key(seed: int, n: int) -> str:
    """The key of seed ``seed``'s size-``n`` sampler in ``SeedBatches.states``."""
    return f"{seed}/{n}"


def _stacked(arrays: list[Arrays]) -> Arrays:
    """Per-seed ``Arrays`` as one float32 ``Arrays`` with a leading seed axis."""
    st = lambda dicts: {k: np.stack([np.asarray(d[k], np.float32) for d in dicts]) for k in dicts[0]}  # noqa: E731
    return Arrays(st([a.inputs for a in arrays]), st([a.hints for a in arrays]), st([a.outputs for a in arrays]),
                  np.stack([np.asarray(a.lengths, np.float32) for a in arrays]))


def _draw_steps(algo, batch_size, random_pos, lengths, seeds, steps, start=0, states=None
                ) -> Iterator[tuple[Arrays, dict]]:
    """Steps ``start`` .. ``steps - 1``: each step's stacked batch, and the states of the
    samplers it advanced (after drawing it)."""
    samplers = _samplers(algo, batch_size, random_pos, lengths, seeds, states)
    for i in range(start, steps):
        n = lengths[i % len(lengths)]
        arrays = _stacked([s.next_arrays() for s in samplers[n]])
        yield arrays, {state_key(s, n): sampler.state() for s, sampler in zip(seeds, samplers[n])}


def _worker(args: tuple, out, algorithm: Algorithm) -> None:
    """A worker process: its seeds' stacked batches, step by step, into ``out``; on an error
    the traceback (as a string) instead. ``algorithm`` is registered first (a user's own
    algorithm is not registered in a fresh process until its module is imported)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the training loop's to handle
    try:
        register_algorithm(algorithm)
        for drawn in _draw_steps(*args):
            out.put(drawn)
    except BaseException:  # noqa: BLE001 - reported to the training loop, which raises it
        out.put(traceback.format_exc())


def chunks(seeds: Sequence[int], k: int) -> list[list[int]]:
    """``seeds`` in at most ``k`` contiguous, near-equal chunks (in order)."""
    k = max(1, min(k, len(seeds)))
    bounds = np.linspace(0, len(seeds), k + 1).round().astype(int)
    return [list(seeds[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _batch_structure(algo: str, a: Arrays):
    """The pytree structure of a ``Batch`` of ``a``'s probes (built from seed 0's slice:
    ``Batch`` checks the shapes of one seed's batch, not of a stack)."""
    parts = (a.inputs, a.hints, a.outputs, a.lengths)
    return jax.tree.structure(Batch(*jax.tree.map(lambda x: jnp.asarray(x[0]), parts), algo))


def _seed_batch(structure, a: Arrays) -> Batch:
    """Stacked ``Arrays`` as a ``Batch`` with a leading seed axis, leaf by leaf."""
    return jax.tree.unflatten(structure, [jnp.asarray(x) for x in jax.tree.leaves((a.inputs, a.hints, a.outputs,
                                                                                     a.lengths))])


class SeedBatches:
    """An iterator over training steps' ``Batch``es (leading seed axis) for ``seeds``, drawn
    in this process (``workers=0``) or by ``workers`` processes that keep up to
    ``prefetch`` steps ready. Use as a context manager (the workers are stopped on exit); a
    worker's error is raised here, with its traceback.

    The steps are ``start`` .. ``steps - 1``. ``states`` is every sampler's state as of the
    step before ``start`` (``SeedBatches.states`` of an earlier run with the same
    settings), so that a resumed run draws the batches an uninterrupted run draws.
    ``states`` is always that of the batches *yielded* so far, however far ahead the
    workers draw."""

    def __init__(self, algo: str, seeds: Sequence[int], lengths: Sequence[int], steps: int, *, batch_size: int,
                 random_pos: bool = True, workers: int = 0, prefetch: int = 4, start: int = 0,
                 states: dict | None = None):
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        if not 0 <= start <= steps:
            raise ValueError(f"start must lie in [0, steps={steps}], got {start}")
        if start and states is None:
            raise ValueError("a start past step 0 needs the samplers' states at that step (states)")
        self.algo, self.steps, self.start = algo, steps, start
        self.states = dict(states or {})
        args = lambda chunk: (algo, batch_size, random_pos, tuple(lengths), tuple(chunk), steps, start,  # noqa: E731
                              states)
        self._procs, self._queues = [], []
        if workers == 0:
            self._local = _draw_steps(*args(seeds))
            return
        self._local = None
        algorithm = get_algorithm(algo)
        try:
            pickle.dumps(algorithm)
        except (pickle.PicklingError, AttributeError, TypeError) as err:
            raise ValueError(f"workers > 0 draw {algo!r} in other processes, which receive its Algorithm record by "
                             f"pickle: define its reference and trace_bound as module-level functions (no lambdas), "
                             f"or train with workers=0 ({err})") from None
        ctx = mp.get_context("spawn")  # never fork a process that holds JAX's threads
        saved = os.environ.get("JAX_PLATFORMS")
        os.environ["JAX_PLATFORMS"] = "cpu"  # workers draw NumPy only; they must not claim the GPU
        try:
            for chunk in chunks(seeds, workers):
                q = ctx.Queue(maxsize=prefetch)
                p = ctx.Process(target=_worker, args=(args(chunk), q, algorithm), daemon=True)
                p.start()
                self._procs.append(p)
                self._queues.append(q)
        finally:
            if saved is None:
                os.environ.pop("JAX_PLATFORMS", None)
            else:
                os.environ["JAX_PLATFORMS"] = saved

    def _get(self, k: int) -> tuple[Arrays, dict]:
        while True:
            try:
                got = self._queues[k].get(timeout=_POLL_S)
            except queue.Empty:
                if not self._procs[k].is_alive():
                    raise RuntimeError(f"data worker {k} stopped (exit code {self._procs[k].exitcode}) "
                                       "before drawing every step") from None
                continue
            if isinstance(got, str):
                raise RuntimeError(f"data worker {k} failed:\n{got}")
            return got

    def __iter__(self) -> Iterator[Batch]:
        structure = None
        for _ in range(self.start, self.steps):
            if self._local is not None:
                a, states = next(self._local)
            else:
                drawn = [self._get(k) for k in range(len(self._procs))]
                parts = [a for a, _ in drawn]
                states = {key: st for _, part in drawn for key, st in part.items()}
                cat = lambda dicts: {k: np.concatenate([d[k] for d in dicts]) for k in dicts[0]}  # noqa: E731
                a = Arrays(cat([p.inputs for p in parts]), cat([p.hints for p in parts]),
                           cat([p.outputs for p in parts]), np.concatenate([p.lengths for p in parts]))
            structure = structure or _batch_structure(self.algo, a)
            self.states.update(states)
            yield _seed_batch(structure, a)

    def close(self) -> None:
        for p in self._procs:
            if p.is_alive():
                p.terminate()
        for p in self._procs:
            p.join(timeout=5)
        for q in self._queues:
            q.cancel_join_thread()
            q.close()
        self._procs, self._queues = [], []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
