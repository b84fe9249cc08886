"""Stage 2 of the depth-first backend: the fixed layout of named directions of a
compiled ``DepthFirst`` program (``_dfs.py`` describes the construction), as a
``Layout`` with one block of hidden slots and attention features per head.
"""

import numpy as np

from ._layout import Direction, Layout

#: Heads of the compiled model: scan, cursor moves, roots, and one unused (4 divides 128).
HEADS = ("scan", "move", "root", "unused")

#: Hidden-state slots per head block (a slot reads the values of its own head only);
#: the last block holds the slots that read no attention at all. Each is relu(linear):
#:
#: - ``fv``: the scan found a candidate (value 1) or not; ``ws``: its id (0 if none);
#:   ``sw``: at step 0 only, the scan selected the node itself (so not found);
#: - ``push`` / ``popto``: the cursor pushes to / pops to this node; ``pvnew``: the
#:   cursor's id, taken as parent on a push; ``qb``: the own id, removed from the
#:   pointer on a push;
#: - ``newroot``: no cursor, and this is the lowest white node; ``root0``: the same
#:   before step 0 (it also turns grey);
#: - ``gk1``: grey and not the cursor; ``gk2``: a grey cursor that pushes (stays grey);
#:   ``gG``: a white cursor (turns grey, stays the cursor); ``bk``: black; ``bF``: a
#:   grey cursor that finds nothing (turns black); ``begun``: 1 after step 0;
#:   ``pvk``/``hpk``: the parent id / has-parent kept; ``qa``: the own id while no parent.
SLOTS = {
    "scan": ("fv", "ws", "sw"),
    "move": ("push", "popto", "pvnew", "qb"),
    "root": ("newroot", "root0"),
    "unused": ("gk1", "gk2", "gG", "bk", "bF", "begun", "pvk", "hpk", "qa"),
}

#: Each part of the state as a sum of slots (coefficient +1 unless given).
STATE = {
    "grey": ("gk1", "gk2", "gG", "push", "root0"),
    "black": ("bk", "bF"),
    "cur": ("gG", "push", "popto", "newroot"),
    "hp": ("hpk", "push"),
    "pv": ("pvk", "pvnew"),
    "found": ("fv", ("sw", -1.0)),
    "ws": ("ws",),
    "begun": ("begun",),
    # the parent pointer's id: pv, or the node's own id while it has no parent
    "pi": ("pvk", "pvnew", "qa", ("qb", -1.0)),
}

#: Attention features (ζ channels) per head.
FEATURES = {
    "scan": ("pen", "id", "self_a", "self_b", "self_c", "self_d", "low+", "low-"),
    "move": ("cur", "push_a", "push_b", "push_c", "push_d", "pop_a", "pop_b", "pop_c", "pop_d"),
    "root": ("cur", "lower+", "lower-", "self_a", "self_b", "self_c", "self_d"),
    "unused": (),
}

#: The node id (``pos``) in V and the adjacency (``adj``, with self loops) in E.
V_ID, E_ADJ = 0, 0


def minimal_hidden_size() -> int:
    """The smallest hidden size: 4 heads of m channels, m the most slots or features a
    head needs."""
    m = max(max(len(v) for v in SLOTS.values()), max(len(v) for v in FEATURES.values()))
    return len(HEADS) * m


def dfs_layout(hidden_size: int, adj: str = "adj") -> Layout:
    """The layout at ``hidden_size`` (a multiple of 4, at least ``minimal_hidden_size()``):
    V the id, E the edge mask ``adj``, H each head's slots (``SLOTS``), ζ each head's
    features named ``head:feature`` (``FEATURES``)."""
    H = tuple(Direction(n, "value") for names in SLOTS.values() for n in names)
    Z = tuple(f"{head}:{f}" for head in HEADS for f in FEATURES[head])
    return Layout(("idx",), (f"edge:{adj}",), H, Z, hidden_size, heads=HEADS,
                  H_blocks=tuple(len(SLOTS[h]) for h in HEADS), Z_blocks=tuple(len(FEATURES[h]) for h in HEADS))


def slot_index(name: str, hidden_size: int) -> int:
    """The row of H that holds slot ``name`` (block of its head, then its place there)."""
    if not any(name in names for names in SLOTS.values()):
        raise KeyError(f"no slot {name!r}; slots: {[n for v in SLOTS.values() for n in v]}")
    return dfs_layout(hidden_size).h(name)


def state_slots(name: str) -> list[tuple[str, float]]:
    """State part ``name`` (``STATE``) as (slot, coefficient) pairs."""
    return [(item, 1.0) if isinstance(item, str) else item for item in STATE[name]]


def read_state(hidden: np.ndarray, name: str) -> np.ndarray:
    """State part ``name`` (``STATE``) from hidden states ``[..., s]``: the sum of its slots."""
    s = hidden.shape[-1]
    out = np.zeros(hidden.shape[:-1])
    for slot, coeff in state_slots(name):
        out = out + coeff * hidden[..., slot_index(slot, s)]
    return out


def dfs_state(hidden: np.ndarray, name: str) -> np.ndarray:
    """From hidden states ``[..., s]`` of a compiled ``DepthFirst`` program: the state
    part ``name`` (``STATE``, e.g. ``"grey"``, ``"found"``) or, for a name that is only a
    slot (``SLOTS``, e.g. ``"push"``), that slot."""
    if name in STATE:
        return read_state(hidden, name)
    return hidden[..., slot_index(name, hidden.shape[-1])]

