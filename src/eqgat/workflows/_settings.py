"""Comparing the settings a saved run was made with against the settings asked for now:
the one message every resume refusal prints (``stability``, ``reproduce``)."""

from typing import Any


def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    """Nested settings as ``{"config.steps": 2000, ...}``."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def differences(before: dict, now: dict, *, ignore: tuple[str, ...] = ()) -> str:
    """Each setting that differs, ``"config.steps: 2 there, 3 now; ..."`` (nested
    settings flattened; keys in ``ignore`` skipped), or "" when they agree."""
    a, b = flatten(before), flatten(now)
    keys = [k for k in sorted(set(a) | set(b)) if k not in ignore and a.get(k) != b.get(k)]
    return "; ".join(f"{k}: {a.get(k, '(unset)')!r} there, {b.get(k, '(unset)')!r} now" for k in keys)
