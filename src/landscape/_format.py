"""The one on-disk format of a surface, whoever writes it (``Surface.save``,
``evaluate_surface``, ``python -m landscape``), and its readers."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def load_surface(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A saved surface's raw arrays and metadata (``load`` gives a ``Surface``).

    **Arguments:**

    - `path`: the ``.npz`` (its ``.json`` beside it).

    **Returns:**

    ``(arrays, meta)``: the ``.npz``'s arrays by name and the ``.json`` as a dict.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no surface at {path}")
    try:
        data = dict(np.load(path))
        meta = json.loads(path.with_name(path.name + ".json").read_text())
    except Exception as err:
        raise ValueError(f"{path} is not a saved landscape Surface (.npz with a .json beside it)") from err
    return data, meta


@dataclass
class Surface:
    """A loss surface: ``values[i, j]`` at ``model + coords[0][i]·d1 + coords[1][j]·d2``,
    with the settings that made it in ``meta``. ``metrics`` holds every metric evaluated
    on the grid (``values`` is ``metrics[metric]``).

    On disk (one format, whoever wrote it): ``path`` is an ``.npz`` with the axes ``a``,
    ``b``, one ``value_<metric>`` per metric and ``coord_<name>`` per marked model;
    ``path.json`` is ``meta`` with the format tag and the metric names. ``save(path)``
    writes both.

    **Arguments:**

    - `values`: the surface ``[len(a), len(b)]``.
    - `coords`: the axes ``(a, b)``.
    - `meta`: the settings that made it (``meta["coords"]``: marked models' (a, b)).
    - `metric`: the name of `values`.
    - `metrics`: every metric evaluated on the grid, by name.
    """

    values: np.ndarray
    coords: tuple[np.ndarray, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    metric: str = "loss"
    metrics: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        self.metrics = {**self.metrics, self.metric: self.values}

    def save(self, path: str | Path) -> Path:
        """Write ``path`` (.npz) and ``path.json`` (meta)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        marks = self.meta.get("coords") or {}
        np.savez(path, a=self.coords[0], b=self.coords[1], **{f"value_{k}": v for k, v in self.metrics.items()},
                 **{f"coord_{k}": np.asarray(v) for k, v in marks.items()})
        meta = {"format": FORMAT, **self.meta, "metric": self.metric, "metrics": list(self.metrics),
                "coord_names": list(marks)}
        path.with_name(path.name + ".json").write_text(json.dumps(meta, indent=2, default=str))
        return path


FORMAT = "landscape-surface-v1"


def load(path: str | Path, metric: str | None = None) -> Surface:
    """Read a saved surface (by ``Surface.save``, ``python -m landscape`` or
    ``evaluate_surface``).

    **Arguments:**

    - `path`: the ``.npz`` (its ``.json`` beside it).
    - `metric`: which metric becomes ``values`` (default: the one it was saved with).

    **Returns:**

    The ``Surface``; a ``ValueError`` for a file that is not one, or lacks `metric`.
    """
    data, meta = load_surface(path)
    if "values" in data and not any(k.startswith("value_") for k in data):  # written before the formats merged
        data["value_loss"] = data.pop("values")
    metrics = {k[len("value_"):]: v for k, v in data.items() if k.startswith("value_")}
    if not metrics or "a" not in data or "b" not in data:
        raise ValueError(f"{path} is not a saved landscape Surface (.npz with a, b and value_<metric> arrays)")
    metric = metric or meta.get("metric") or ("loss" if "loss" in metrics else next(iter(metrics)))
    if metric not in metrics:
        raise ValueError(f"{path} has no metric {metric!r} (it has {', '.join(metrics)})")
    meta = {k: v for k, v in meta.items() if k not in ("format", "metric", "metrics", "coord_names")}
    return Surface(metrics[metric], (data["a"], data["b"]), meta, metric, metrics)
