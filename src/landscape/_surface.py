"""Loss surfaces on a grid θ + a·δ + b·η, evaluated vectorised, saved resumably.

The grid's points are evaluated in chunks of ``chunk`` points: one ``jax.vmap`` over the
chunk's (a, b) pairs inside one jitted function (one compile, no host round trip per
point), the chunk spread over the local devices (``devices``; recorded in the metadata). After every chunk the finished values go to ``<out>.partial.npz``; a rerun with
``resume=True`` continues from there. The finished surface is ``<out>`` (``.npz``: a, b,
values[metric], plus any model coordinates) and ``<out>.json`` (everything that made it).
An existing output is never silently reused or overwritten.
"""

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree
from tqdm.auto import tqdm

from ._format import Surface
from .devices import devices_used, gather_processes, mesh_for, shard_leading

SPANS = {
    # the paper's views (appendix C.8): a wide and a close look around the centre
    "general": (-1.0, 1.0),
    "local": (-0.1, 0.1),
}


def parse_span(text: str) -> tuple[float, float]:
    """A span as the command line gives it.

    **Arguments:**

    - `text`: ``"general"`` (±1), ``"local"`` (±0.1) or ``"a:b"`` with a < b.

    **Returns:**

    ``(low, high)``; a ``ValueError`` for anything else.
    """
    if text in SPANS:
        return SPANS[text]
    try:
        lo, hi = (float(x) for x in text.split(":"))
    except ValueError:
        raise ValueError(f"span must be 'general', 'local' or 'LOW:HIGH', got {text!r}") from None
    if not lo < hi:
        raise ValueError(f"span {text!r} is empty or negative: LOW must be below HIGH")
    return lo, hi


def grid_axes(span_a, span_b, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced grid axes.

    **Arguments:**

    - `span_a`, `span_b`: (low, high) of each axis.
    - `shape`: points along each axis, at least 1.

    **Returns:**

    ``(a, b)``: ``np.linspace`` over each span.
    """
    na, nb = shape
    if na < 1 or nb < 1:
        raise ValueError(f"grid must have at least 1x1 points, got {na}x{nb}")
    return np.linspace(*span_a, na), np.linspace(*span_b, nb)


class OutputExists(FileExistsError):
    pass


def _check_output(out: Path, resume: bool, force: bool) -> None:
    if out.exists() and not force:
        raise OutputExists(f"{out} exists; pass force=True (--force) to overwrite it")
    partial = _partial(out)
    if partial.exists() and not (resume or force):
        raise OutputExists(f"{partial} holds an interrupted run; pass resume=True (--resume) to continue it or force=True (--force) to restart")


def _partial(out: Path) -> Path:
    return out.with_name(out.name + ".partial.npz")


#: Metadata that may change between an interrupted run and its resume.
_VOLATILE = ("versions", "seconds")


def _digest(*trees: PyTree) -> str:
    """A fingerprint of every array in ``trees`` (shapes, dtypes and values)."""
    h = hashlib.sha256()
    for x in jax.tree.leaves(trees):
        x = np.asarray(x)
        h.update(f"{x.shape}{x.dtype}".encode())
        h.update(np.ascontiguousarray(x).tobytes())
    return h.hexdigest()[:16]


def _settings(meta, names, params, d1, d2, anchors, points, chunk) -> dict:
    """Everything a resumed surface must share with the interrupted one: the caller's
    settings (``meta``), the metric names, and fingerprints of the model, the directions
    (or anchors) and the grid, so a change is caught even where ``meta`` does not name it."""
    settings = {k: v for k, v in (meta or {}).items() if k not in _VOLATILE}
    settings.update({"metrics": names, "model parameters": _digest(params), "directions": _digest(d1, d2),
                     "grid points": _digest(points), "chunk": chunk})
    if anchors is not None:
        settings["anchors"] = _digest(anchors[0], anchors[1], np.asarray(anchors[2]))
    return json.loads(json.dumps(settings, default=str))


def _check_resume(partial: Path, saved: dict, now: dict) -> None:
    differ = [k for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
    if differ:
        said = "; ".join(f"{k}: {saved.get(k, '(unset)')!r} then, {now.get(k, '(unset)')!r} now" for k in differ)
        raise ValueError(f"{partial} was made with other settings, so it is not resumed ({said}); "
                         "rerun with those settings, or pass force=True (--force) to restart")


def _resumed(out: Path, settings: dict, names: list[str], values: dict[str, np.ndarray]) -> np.ndarray:
    """The points already done in ``out``'s partial file (their values into ``values``),
    or a ``ValueError`` naming each setting that differs from ``settings``."""
    saved = np.load(_partial(out))
    _check_resume(_partial(out), json.loads(str(saved["settings"])) if "settings" in saved else {}, settings)
    for k in names:
        values[k] = saved[f"v_{k}"]
    return saved["done"]


def _save_partial(out: Path, points, done, settings: dict, values: dict[str, np.ndarray]) -> None:
    """The grid so far, written atomically (a temporary file, then a rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial(out).with_name(_partial(out).name + ".tmp.npz")
    np.savez(tmp, points=points, done=done, settings=json.dumps(settings), **{f"v_{k}": v for k, v in values.items()})
    tmp.replace(_partial(out))


def _chunk_metrics(params, static, metrics, u, v, cs, anchored: bool):
    """``metrics`` at each point of a chunk: model + c0·u + c1·v, or with ``anchored``
    the combination c0·model + c1·u + c2·v of three models."""

    def at(c):
        if anchored:
            moved = jax.tree.map(lambda x, y, z: c[0] * x + c[1] * y + c[2] * z, params, u, v)
        else:
            moved = jax.tree.map(lambda x, y, z: x + c[0] * y + c[1] * z, params, u, v)
        return metrics(eqx.combine(moved, static))

    return jax.vmap(at)(cs)


def _fill(run_chunk, coef, names, values, done, chunk: int, mesh, *, stop_after, progress: bool, save) -> None:
    """Evaluate every chunk of points not yet ``done`` into ``values``, calling ``save``
    after each round. With several processes (jax.distributed), process k evaluates chunk
    k of every round of P chunks and the round's values are gathered, so every process
    holds the grid."""
    npts = len(done)
    P, me = jax.process_count(), jax.process_index()
    starts = [s for s in range(0, npts, chunk) if not done[s : s + chunk].all()]
    rounds = [starts[i : i + P] for i in range(0, len(starts), P)]
    bar = tqdm(total=npts, initial=int(done.sum()), disable=not progress or me != 0, desc="surface", unit="pt")
    for c, rnd in enumerate(rounds):
        if stop_after is not None and c >= stop_after:
            break
        mine = np.full((len(names), chunk), np.nan)
        if me < len(rnd):
            ab = coef[rnd[me] : rnd[me] + chunk]
            pad = chunk - len(ab)
            res = run_chunk(shard_leading(jnp.asarray(np.pad(ab, [(0, pad), (0, 0)])), mesh))  # same shape: one compile
            mine = np.stack([np.asarray(res[k], np.float64) for k in names])
        every = gather_processes(mine[None])  # [P, metrics, chunk]
        for j, s in enumerate(rnd):
            n = min(chunk, npts - s)
            for i, k in enumerate(names):
                values[k][s : s + n] = every[j, i, :n]
            done[s : s + n] = True
            bar.update(n)
        if save is not None and me == 0:
            save()
    bar.close()


def _grid_points(a: np.ndarray, b: np.ndarray, d1: PyTree, d2: PyTree, anchors) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The grid's points (float32 (a_i, b_j) pairs, row-major), each point's coefficients
    and the pytrees they multiply: (a, b) of (d1, d2), or with ``anchors`` (1-p-q, p, q) of
    (model, θ1, θ2), computed in float64 so that each model's own weight is exact."""
    AA, BB = np.meshgrid(a, b, indexing="ij")
    ab64 = np.stack([AA.ravel(), BB.ravel()], axis=1)
    points = ab64.astype(np.float32)
    if anchors is None:
        return points, points, (d1, d2)
    others = (eqx.filter(anchors[0], eqx.is_inexact_array), eqx.filter(anchors[1], eqx.is_inexact_array))
    pq = ab64 @ np.asarray(anchors[2], np.float64).T
    coef = np.stack([1.0 - pq[:, 0] - pq[:, 1], pq[:, 0], pq[:, 1]], axis=1).astype(np.float32)
    return points, coef, others


def evaluate_surface(
    model: PyTree,
    metrics: Callable[[PyTree], dict[str, jax.Array]],
    d1: PyTree,
    d2: PyTree,
    a: np.ndarray,
    b: np.ndarray,
    *,
    chunk: int = 16,
    out: str | Path | None = None,
    meta: dict[str, Any] | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    anchors: tuple[PyTree, PyTree, np.ndarray] | None = None,
    devices: int | None = None,
) -> dict[str, np.ndarray]:
    """``metrics(model')`` for model' = model + a_i·d1 + b_j·d2 on the whole grid: the
    general evaluator behind ``surface`` and ``python -m landscape``.

    **Arguments:**

    - `model`: any Equinox model, the centre.
    - `metrics`: ``model -> {name: scalar}``, traceable (vmapped over points).
    - `d1`, `d2`: the two directions.
    - `a`, `b`: the grid's axes.
    - `chunk`: points per vmapped call (one compile).
    - `out`: save the surface here (``.npz`` + ``.json``), chunk by chunk as they finish;
      an existing output is never reused or overwritten without `resume` / `force`.
    - `meta`: settings to record (a resumed run must match them).
    - `resume`: continue an interrupted run from ``<out>.partial.npz`` (refused, naming
      each difference, when the settings, model, directions or grid differ).
    - `force`: overwrite.
    - `progress`: show a progress bar.
    - `stop_after`: stop after this many chunks (simulates an interruption, for tests).
    - `anchors`: (θ1, θ2, W), a ``Plane``'s models and ``weights``: the same points
      evaluated as (1-p-q)·model + p·θ1 + q·θ2 with (p, q) = W·(a, b), exact at all three
      models even when their weights differ by 1e9.
    - `devices`: spread each chunk over at most this many local devices (default all);
      chunks are also spread over the processes of a ``jax.distributed`` run.

    **Returns:**

    ``{name: values[len(a), len(b)]}`` (NumPy float64).
    """
    out = None if out is None else Path(out)
    if out is not None:
        _check_output(out, resume, force)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    points, coef, others = _grid_points(a, b, d1, d2, anchors)
    npts = len(points)
    names = list(jax.eval_shape(lambda: metrics(model)).keys())
    values = {k: np.full(npts, np.nan, dtype=np.float64) for k in names}
    done = np.zeros(npts, dtype=bool)
    settings = _settings(meta, names, params, d1, d2, anchors, points, chunk) if out is not None else {}
    if out is not None and resume and _partial(out).exists() and not force:
        done = _resumed(out, settings, names, values)

    @eqx.filter_jit  # per surface (its model, directions and batch are constants of it; freed with it)
    def run_chunk(cs):
        return _chunk_metrics(params, static, metrics, *others, cs, anchors is not None)

    mesh = mesh_for(chunk, "points", devices)  # each chunk's points spread over the local devices
    save = None if out is None else (lambda: _save_partial(out, points, done, settings, values))
    t0 = time.time()
    _fill(run_chunk, coef, names, values, done, chunk, mesh, stop_after=stop_after, progress=progress, save=save)
    P, me = jax.process_count(), jax.process_index()
    grid = {k: v.reshape(len(a), len(b)) for k, v in values.items()}
    if out is not None and done.all() and me == 0:
        meta = dict(meta or {})
        meta.update(grid=[len(a), len(b)], seconds=time.time() - t0, chunk=chunk, metrics=names,
                    devices=devices_used(mesh), processes=P)
        Surface(grid[names[0]], (a, b), meta, names[0], grid).save(out)
        _partial(out).unlink(missing_ok=True)
    return grid


def interpolate(m0: PyTree, m1: PyTree, metrics: Callable[[PyTree], dict[str, jax.Array]],
                ts: np.ndarray) -> dict[str, np.ndarray]:
    """1-D interpolation (1 - t)·θ0 + t·θ1 of two models of the same structure.

    **Arguments:**

    - `m0`, `m1`: two models of one architecture.
    - `metrics`: ``model -> {name: scalar}``, traceable.
    - `ts`: the t values (one vmapped, jitted evaluation).

    **Returns:**

    ``{name: values[len(ts)]}`` (NumPy).
    """
    p0, static = eqx.partition(m0, eqx.is_inexact_array)
    p1 = eqx.filter(m1, eqx.is_inexact_array)
    if jax.tree.structure(p0) != jax.tree.structure(p1):
        raise ValueError("interpolation needs two models of the same architecture")

    @eqx.filter_jit
    def run(t):
        return jax.vmap(lambda s: metrics(eqx.combine(jax.tree.map(lambda x, y: (1 - s) * x + s * y, p0, p1), static)))(t)

    res = run(jnp.asarray(ts, dtype=jnp.float32))
    return {k: np.asarray(v) for k, v in res.items()}
