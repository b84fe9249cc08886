"""Checkpoints: ``eqx.tree_serialise_leaves`` for the weights, JSON for every setting.

``save(path, model, **info)`` writes ``path`` (weights) and ``path.json`` (the model's
constructor settings plus ``info``, e.g. how it was trained or compiled). ``load(path)``
rebuilds the model skeleton from the JSON and reads the weights into it: trained and
compiled models alike.
"""

import json
from pathlib import Path
from typing import Any

import equinox as eqx
import jax

from ._config import ModelConfig
from ._model import Model
from ..probes import Probe
from ..algorithms import get_spec, register_spec

FORMAT = "eqgat-checkpoint-v1"


def model_config(model: Model) -> dict[str, Any]:
    """``model.config`` as a dict.

    **Arguments:**

    - `model`: an eqgat ``Model``.

    **Returns:**

    The ``ModelConfig``'s fields as a dict (the JSON a checkpoint stores).
    """
    return model.config.to_dict()


def model_from_config(config: ModelConfig | dict[str, Any], *, key=None) -> Model:
    """A model with ``config``'s structure.

    **Arguments:**

    - `config`: a ``ModelConfig``, or its dict (``model_config``).
    - `key`: the initial weights' key (default ``jax.random.key(0)``).

    **Returns:**

    A freshly initialised ``Model``.
    """
    if isinstance(config, dict):
        config = ModelConfig.from_dict(config)
    return Model(config, key=jax.random.key(0) if key is None else key)


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def save(path: str | Path, model: Model, **info: Any) -> Path:
    """Write a checkpoint: the weights and, beside them, every setting.

    **Arguments:**

    - `path`: where the weights go (``eqx.tree_serialise_leaves``); folders are made.
    - `model`: an eqgat ``Model`` (trained, compiled or imported).
    - `info`: anything JSON-able to record with it (how it was trained or compiled).

    **Returns:**

    `path`. ``path.json`` holds the ``ModelConfig``, the algorithm's probes and `info`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    eqx.tree_serialise_leaves(path, model)
    meta = {
        "format": FORMAT,
        "model": model_config(model),
        "probes": [list(p) for p in get_spec(model.algorithm)],
        "info": info,
    }
    _meta_path(path).write_text(json.dumps(meta, indent=2, default=str))
    return path


def read_meta(path: str | Path) -> dict[str, Any]:
    """The JSON saved beside the checkpoint at ``path``; a clear error if there is none."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    meta_path = _meta_path(path)
    try:
        meta = json.loads(meta_path.read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not an eqgat checkpoint: {meta_path} is missing or not JSON") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not an eqgat checkpoint ({meta_path} has no '{FORMAT}' format tag)")
    return meta


def load(path: str | Path) -> Model:
    """Read a checkpoint written by ``save`` (trained, compiled or imported).

    **Arguments:**

    - `path`: the weights file; its settings are read from ``path.json``.

    **Returns:**

    The ``Model``. A file that is not a checkpoint, or was written for other settings,
    is a ``ValueError``; a missing one a ``FileNotFoundError``. The algorithm's probes
    are registered from the JSON, so a checkpoint of a user's algorithm loads anywhere.
    """
    meta = read_meta(path)
    config = meta["model"]
    register_spec(config["algorithm"], tuple(Probe(*p) for p in meta["probes"]))  # known: checked equal
    skeleton = model_from_config(ModelConfig.from_dict(config))
    try:
        return eqx.tree_deserialise_leaves(Path(path), skeleton)
    except Exception as err:  # shape/dtype mismatch or a truncated file
        raise ValueError(
            f"{path} does not match the settings in its JSON ({config}); "
            f"it was written with other settings or is damaged: {err}"
        ) from err
