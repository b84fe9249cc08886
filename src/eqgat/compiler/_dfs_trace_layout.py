"""Stages 2-3 of the depth-first backend's clrs-trace construction (``_dfs_trace.py``
describes it): the fixed layout of named directions, one block per head, and
``TraceConstants``, each constant with the reason its value is safe."""

from dataclasses import dataclass

import numpy as np

from ._dfs_constants import IdResolution
from ._dfs_weights import read_part
from ._layout import Direction, Layout

#: Heads: the five selections, then three blocks of slots that read no attention.
HEADS = ("scan", "cursor", "push", "pop", "parent", "own", "spare1", "spare2")

#: Node features V: the id and the fed-back node hints (colour as three channels).
V_NAMES = ("idx", "white", "grey", "black", "u", "s", "v", "s_last", "d", "f")
#: Edge features E: the adjacency (with self-loops) and the fed-back parent pointer.
E_NAMES = ("edge:adj", "edge:pi_h")

#: Hidden-state slots per head block (each ``relu`` of a linear map; a slot reads its
#: own head's selected values only).
SLOTS = {
    "scan": ("found", "ws"),
    "cursor": ("tick", "tick_B", "tick_D", "last_B", "last_D", "root_a", "root_b"),
    "push": ("pushed", "push_x", "parent_B", "parent_D"),
    "pop": ("popped", "finish_pop", "f_pop"),
    "parent": ("pv", "pws", "pfound", "stack_grey"),
    "own": ("start", "stay_B", "take_C", "finish_B", "d_A", "d_C", "f_B", "top_A", "v_A", "v_C", "stack_self"),
    "spare1": (),
    "spare2": (),
}

#: Parts of the state kept in H, as sums of slots (coefficient +1 unless given).
STATE = {
    "clock": ("tick", "tick_B", "tick_D"),
    "found": ("found",),
    "ws": ("ws",),
    # has a parent: |K·(x_parent - x_i)| capped at 1, read afresh from the fed-back pi_h
    "pv": ("pv",),
    "pws": ("pws",),
    "pfound": ("pfound",),
}

#: Attention features ζ per head.
FEATURES = {
    "scan": ("penalty", "id"),
    "cursor": ("cur",),
    "push": ("cur", "B+", "B-", "D+", "D-", "toB_a+", "toB_a-", "toB_b+", "toB_b-", "toD_a+", "toD_a-", "toD_b+",
             "toD_b-"),
    "pop": ("cur", "D+", "D-", "to_a+", "to_a-", "to_b+", "to_b-"),
    "parent": ("pi",),
    "own": (), "spare1": (), "spare2": (),
}


def minimal_hidden_size() -> int:
    """The smallest hidden size: 8 heads of m channels, m the most slots or features of a head."""
    m = max(max(len(v) for v in SLOTS.values()), max(len(v) for v in FEATURES.values()))
    return len(HEADS) * m


def trace_layout(hidden_size: int) -> Layout:
    """The named directions of the compiled clrs-trace ``DepthFirst`` program.

    **Arguments:**

    - `hidden_size`: a multiple of 8, at least ``minimal_hidden_size()``.

    **Returns:**

    A ``Layout``: V the id and the fed-back node hints, E the adjacency and the fed-back
    parent pointer, H each head's slots (``SLOTS``), ζ each head's features named
    ``head:feature`` (``FEATURES``); what a compiled checkpoint stores for ``show``."""
    H = tuple(Direction(n, "value") for names in SLOTS.values() for n in names)
    Z = tuple(f"{head}:{f}" for head in HEADS for f in FEATURES[head])
    return Layout(V_NAMES, E_NAMES, H, Z, hidden_size, heads=HEADS,
                  H_blocks=tuple(len(SLOTS[h]) for h in HEADS), Z_blocks=tuple(len(FEATURES[h]) for h in HEADS))


def state_slots(name: str) -> list[tuple[str, float]]:
    """State part ``name`` (``STATE``), or a slot, as (slot, coefficient) pairs."""
    if name in STATE:
        return [(item, 1.0) if isinstance(item, str) else item for item in STATE[name]]
    return [(name, 1.0)]


@dataclass(frozen=True)
class TraceConstants(IdResolution):
    """The constants of the compiled CLRS ``dfs`` for graphs of at most ``max_nodes``
    nodes (ids increasing with the index, at least δ = 1/max_nodes apart), each with the
    reason its value is safe (``describe``).

    **Arguments:**

    - `max_nodes`: the largest graph; sets the id resolution δ.
    - `margin`: the least logit gap of every selection and decoder (``MARGIN``)."""

    @property
    def M_time(self) -> float:
        """Gate of a time-valued slot (the clock reaches 2n ticks of 0.01)."""
        return 2.0 * self.max_nodes * self.tick + 1.0

    @property
    def L_default(self) -> float:
        """Mask-one decoders' default: white nodes first, then low ids, 2·margin per δ."""
        return 2 * self.margin / self.delta

    @property
    def G_claim(self) -> float:
        """A claim (the node that takes a cursor) over every default."""
        return 3 * self.L_default + 2 * self.margin

    #: gate of the slots that turn ``v``'s default around at a finish (values 2·x + 2·(1 - white) <= 4)
    M_last: float = 4.0

    #: a clock tick in time units (dm-clrs' time += 0.01)
    tick: float = 0.01

    def describe(self) -> dict[str, tuple[float, str]]:
        """Every constant with the reason its value is safe (as ``Constants.describe``)."""
        n, m = self.max_nodes, self.margin
        return {
            "MARGIN": (m, f"Least logit gap of every selection and every decoder: the loser keeps e^-{m:g}, so "
                       "attention and fed-back hints are one-hot to float precision."),
            "DELTA": (self.delta, f"1/{n}: the least gap between two ids (ids increase with the index)."),
            "L_SCAN": (self.L_scan, "Scan: ω of the sender's id; the lowest-id candidate wins by L_SCAN·DELTA = "
                       "2·MARGIN."),
            "M_SCAN": (self.M_scan, "Scan: ω of the penalty (1 - adj_ij) + (1 - white_j) + u_j, an integer that is 0 "
                       "exactly for candidates: a non-candidate scores below -L_SCAN - 2·MARGIN."),
            "P": (self.P, "Cursor, parent, push and pop heads: the sender the receiver wants scores P = 2·MARGIN "
                  "above the rest (0)."),
            "L_MATCH": (self.L_match, "Push and pop: ω of |target_j - x_i|; a target DELTA away from the receiver's "
                        "id scores P - L_MATCH·DELTA = -2·MARGIN, below the rest."),
            "B_MATCH": (self.B_match, "Push and pop: an unmet flag of the sender shifts the V-shape's arguments "
                        "(ids, at most 1 apart) below 0, so it adds nothing."),
            "M_ID": (self.M_id, "Gate of an id-valued slot: relu(id - M_ID·unmet) is 0 for unmet >= 1 (ids <= 1)."),
            "M_TIME": (self.M_time, "Gate of a time-valued slot: the clock reaches at most 2·max_nodes ticks."),
            "G": (self.G, f"Colour decoder gain: the others keep e^-{self.G:g}."),
            "L_DEFAULT": (self.L_default, "Mask-one decoders: 2·white_i - x_i scaled by L_DEFAULT; with no claim "
                          "the lowest white node wins by 2·MARGIN (a new root)."),
            "G_CLAIM": (self.G_claim, "Mask-one decoders: a claim (the node the cursor moves to) beats every "
                        "default (at most 2·L_DEFAULT, a claimant's at least -L_DEFAULT) by 2·MARGIN."),
            "M_LAST": (self.M_last, "v at a finish (no claim): a slot 2·x_i + 2·(1 - white_i) <= 4, weighted "
                       "L_DEFAULT, turns the default into L_DEFAULT·(x_i + 2), so node n - 1 wins by 2·MARGIN; "
                       "M_LAST·unmet takes it out at every other step."),
            "C_POINTER": (self.C_pointer, "Pointer decoder scale: ids DELTA apart give logit gaps of 2·MARGIN."),
            "B_POINTER": (self.B_pointer, "Takes a pointer-decoder feature out of its max (ids <= 1)."),
            "TICK": (self.tick, "dm-clrs' time += 0.01. The clock is kept in time units (every slot of H stays "
                     "below ~3, so a small relative change of any weight row moves it little); float32 adds at most "
                     "half an ulp per tick, 1e-5 relative over a trace, within verify's 1e-4."),
        }


def dfs_trace_state(hidden: np.ndarray, name: str) -> np.ndarray:
    """Read a part of the state from hidden states of the compiled CLRS ``dfs``.

    **Arguments:**

    - `hidden`: hidden states ``[..., s]`` (e.g. ``predict(model, batch).hidden``).
    - `name`: a state part (``STATE``, e.g. ``"clock"``, ``"found"``) or a slot
      (``SLOTS``, e.g. ``"pushed"``).

    **Returns:**

    ``[...]``: the part, the sum of its slots."""
    return read_part(hidden, trace_layout(hidden.shape[-1]), state_slots, name)
