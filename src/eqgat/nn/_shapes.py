"""Shape checks at the boundary of the layers and the model: plain comparisons of
``.shape``, which is static under ``jax.jit`` and ``jax.vmap``, so they run once, while
tracing, and cost nothing in the compiled program. Each error names the argument, the
layout it must have and both sizes, with no jaxtyping import hook needed (the jaxtyping
annotations stay as documentation, and are checked as well where the hook is on)."""

from collections.abc import Mapping, Sequence

from ..probes import Location, Probe, Type


def shape_of(x) -> tuple[int, ...]:
    """``x.shape`` as a tuple (``()`` for a Python number)."""
    return tuple(getattr(x, "shape", ()))


def fmt(shape: Sequence) -> str:
    """A shape as ``[4, 4, 3]``."""
    return "[" + ", ".join(str(s) for s in shape) + "]"


def check_shape(x, names: Sequence[str], sizes: Sequence[int], *, arg: str, note: str = "") -> None:
    """Raise a ``ValueError`` unless ``x`` has shape ``sizes``.

    **Arguments:**

    - `x`: the array.
    - `names`: the axes' names, e.g. ``("n", "n", "feature_size")``.
    - `sizes`: their sizes here.
    - `arg`: the argument's name, for the message.
    - `note`: where the sizes come from, appended to the message.
    """
    shape = shape_of(x)
    if shape == tuple(sizes):
        return
    raise ValueError(f"{arg} must be [{', '.join(names)}] = {fmt(sizes)}{note}, got shape {fmt(shape)}")


def probe_axes(probe: Probe, n: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The axes of one graph's value of ``probe`` (names, sizes): a node probe ``[n]``, an
    edge probe ``[n, n]``, a graph probe ``[]``, a categorical one with its categories last;
    pointers are node indices, ``[n]``."""
    names = {Location.NODE: ("n",), Location.EDGE: ("n", "n"), Location.GRAPH: ()}[probe.location]
    if probe.type == Type.CATEGORICAL:
        names += ("categories",)
    sizes = tuple({"n": n, "categories": probe.dim}[a] for a in names)
    return names, sizes


def require_probes(arrays: Mapping, probes: Sequence[Probe], *, arg: str, algorithm: str,
                   note: str = "") -> None:
    """Raise unless ``arrays`` is a dict holding every one of ``probes`` by name."""
    if not isinstance(arrays, Mapping):
        raise TypeError(f"{arg} must be a dict of arrays by probe name, got {type(arrays).__name__}")
    missing = [p.name for p in probes if p.name not in arrays]
    if missing:
        have = ", ".join(repr(k) for k in arrays) or "nothing"
        raise ValueError(f"{arg} lacks {', '.join(repr(m) for m in missing)}, which the {algorithm} model reads "
                         f"({arg} has {have}{note})")


def check_probes(arrays: Mapping, probes: Sequence[Probe], n: int, *, arg: str, algorithm: str,
                 lead: Sequence[tuple[str, int]] = (), note: str = "") -> None:
    """Raise a ``ValueError`` unless ``arrays`` holds every one of ``probes`` with its
    shape (``probe_axes``) after the ``lead`` axes (``(name, size)`` pairs, e.g. a batch
    axis ``("b", 32)`` or a time axis ``("T", 12)``)."""
    require_probes(arrays, probes, arg=arg, algorithm=algorithm)
    for p in probes:
        names, sizes = probe_axes(p, n)
        check_shape(arrays[p.name], [a for a, _ in lead] + list(names), [s for _, s in lead] + list(sizes),
                    arg=f"{arg}[{p.name!r}]", note=f" ({p.location} {p.type} probe{note})")
