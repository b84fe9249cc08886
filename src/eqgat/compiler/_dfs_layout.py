"""Stage 2 of the depth-first backend's light construction (``_dfs.py`` describes it):
the fixed layout of named directions, one block of hidden slots and attention features
per head."""

import numpy as np

from ._dfs_weights import read_part
from ._layout import Direction, Layout

#: Heads of the compiled model: the scan, the cursor's moves, roots, the parent.
HEADS = ("scan", "move", "root", "parent")

#: Node features V: the id and the fed-back colour hint (three channels).
V_NAMES = ("idx", "white", "grey", "black")

#: Hidden-state slots per head block (each relu of a linear map; a slot reads its own
#: head's selected values only; the parent block also holds the slots that read none):
#:
#: - ``found``: the scan found a candidate (1) or not (0); ``ws``: its id (0 if none);
#: - ``pushed`` / ``popto``: the cursor pushes to / pops to this node; ``pvnew``: the
#:   cursor's id, the parent of a pushed node; ``qb``: the own id, taken out of the
#:   pointer of a pushed node;
#: - ``newroot``: the cursor is black (a tree is finished) or there is none, and this is
#:   the lowest white node; ``root0``: the same before step 0 (it also turns grey);
#: - ``pv_read``: the parent's id, read along the fed-back pointer (a white node or a
#:   root: its own); ``start``: a white cursor (turns grey, stays the cursor);
#:   ``finish``: a grey cursor that found nothing (turns black); ``begun``: 1 after step 0.
#:
#: The flags the cursor passes on from step to step (``pushed``, ``popto``, ``start``)
#: are *snapped*: two slots relu(2v - 1/2) - relu(2v - 3/2), exactly 0 for v <= 1/4 and
#: exactly 1 for v in [3/4, 5/4], so an error in the cursor's flag (a perturbed weight)
#: is not handed on and does not build up over a trace.
SNAPPED = ("pushed", "popto", "start")
SLOTS = {
    "scan": ("found", "ws"),
    "move": ("pushed_a", "pushed_b", "popto_a", "popto_b", "pvnew", "qb"),
    "root": ("newroot", "root0"),
    "parent": ("pv_read", "start_a", "start_b", "finish", "begun"),
}

#: What H carries to the next step, as sums of slots (coefficient +1 unless given): the
#: colour and the parent pointer are hints, fed back; H holds only what they do not say.
STATE = {
    **{name: (f"{name}_a", (f"{name}_b", -1.0)) for name in SNAPPED},
    # the node the search stands on (a black cursor: its tree is finished)
    "cur": ("start_a", ("start_b", -1.0), "pushed_a", ("pushed_b", -1.0), "popto_a", ("popto_b", -1.0), "newroot"),
    "found": ("found",),
    "ws": ("ws",),
    "begun": ("begun",),
    # the parent's id at the next hint: the one read, or the cursor's on a push
    "pv": ("pv_read", "pvnew", ("qb", -1.0)),
}

#: Attention features ζ per head.
FEATURES = {
    "scan": ("penalty", "id"),
    "move": ("cur", "push+", "push-", "pop+", "pop-", "to_push_a+", "to_push_a-", "to_push_b+", "to_push_b-",
             "to_pop_a+", "to_pop_a-", "to_pop_b+", "to_pop_b-"),
    "root": ("cur", "grey", "black", "id"),
    "parent": ("pi",),
}


def minimal_hidden_size() -> int:
    """The smallest hidden size: 4 heads of m channels, m the most slots or features of a head."""
    m = max(max(len(v) for v in SLOTS.values()), max(len(v) for v in FEATURES.values()))
    return len(HEADS) * m


def dfs_layout(hidden_size: int, adj: str = "adj", parent: str = "pi_h") -> Layout:
    """The named directions of the compiled light ``DepthFirst`` program.

    **Arguments:**

    - `hidden_size`: a multiple of 4, at least ``minimal_hidden_size()``.
    - `adj`: the edge mask input the scan follows.
    - `parent`: the parent-pointer hint, fed back as an edge feature.

    **Returns:**

    A ``Layout``: V the id and the fed-back colour, E the edge mask and the fed-back
    pointer, H each head's slots (``SLOTS``), ζ each head's features named
    ``head:feature`` (``FEATURES``); what a compiled checkpoint stores for ``show``."""
    H = tuple(Direction(n, "value") for names in SLOTS.values() for n in names)
    Z = tuple(f"{head}:{f}" for head in HEADS for f in FEATURES[head])
    return Layout(V_NAMES, (f"edge:{adj}", f"edge:{parent}"), H, Z, hidden_size, heads=HEADS,
                  H_blocks=tuple(len(SLOTS[h]) for h in HEADS), Z_blocks=tuple(len(FEATURES[h]) for h in HEADS))


def state_slots(name: str) -> list[tuple[str, float]]:
    """State part ``name`` (``STATE``), or a slot, as (slot, coefficient) pairs."""
    if name in STATE:
        return [(item, 1.0) if isinstance(item, str) else item for item in STATE[name]]
    if not any(name in names for names in SLOTS.values()):
        raise KeyError(f"no state part or slot {name!r}; state: {list(STATE)}, slots: "
                       f"{[n for v in SLOTS.values() for n in v]}")
    return [(name, 1.0)]


def dfs_state(hidden: np.ndarray, name: str) -> np.ndarray:
    """Read a part of the state from hidden states of the compiled ``dfs_light``.

    **Arguments:**

    - `hidden`: hidden states ``[..., s]`` (e.g. ``predict(model, batch).hidden``).
    - `name`: a state part (``STATE``, e.g. ``"cur"``, ``"found"``) or a slot
      (``SLOTS``, e.g. ``"pushed"``).

    **Returns:**

    ``[...]``: the part, the sum of its slots."""
    return read_part(hidden, dfs_layout(hidden.shape[-1]), state_slots, name)
