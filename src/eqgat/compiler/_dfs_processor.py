"""Stage 4 of the depth-first backend's light construction: the processor's weights
(four selections and every slot's update; ``_dfs.py`` describes the construction),
written into the shared buffer at the named directions of ``dfs_layout``."""

from ._dfs_constants import DfsConstants
from ._dfs_layout import state_slots
from ._dfs_weights import HeadWeights
from ._layout import Layout


def compile_processor_dfs(lay: Layout, const: DfsConstants) -> HeadWeights:
    """The processor's weights at ``lay`` (``dfs_layout``): the four selections and every
    slot's update."""
    w = HeadWeights(lay, state_slots)
    adj, parent = lay.E
    _scan(w, const, adj, parent)
    _moves(w, const)
    _roots(w, const, parent)
    _parent(w, const, parent)
    return w


#: What a sender lacks to push (a grey cursor whose scan found a node) and to pop (a
#: grey cursor whose scan found none): integers >= 0, 0 exactly for the mover.
UNMET_PUSH = {"1": 3.0, "cur": -1.0, "grey": -1.0, "found": -1.0}
UNMET_POP = {"1": 2.0, "cur": -1.0, "grey": -1.0, "found": 1.0}


def _snapped(w: HeadWeights, name: str, skip: dict, value: dict | None = None) -> None:
    """Flag ``name`` = relu(2v - 1/2) - relu(2v - 3/2) for v = skip + Σα value: exactly 0
    or 1 while v is within 1/4 of it (``SNAPPED``)."""
    twice = lambda d: {n: 2 * c for n, c in d.items()}  # noqa: E731
    for suffix, const in (("_a", -0.5), ("_b", -1.5)):
        w.slot(name + suffix, twice(skip) | {"1": 2 * skip.get("1", 0.0) + const}, twice(value) if value else None)


def _is(unmet: dict) -> dict:
    """1 - unmet: 1 for the mover, <= 0 for every other sender."""
    return {n: -v for n, v in unmet.items() if n != "1"} | {"1": 1.0 - unmet["1"]}


def _scan(w: HeadWeights, c: DfsConstants, adj: str, parent: str) -> None:
    """Head 0: the lowest-id white out-neighbour of the receiver, other than itself: a
    white node's fed-back pointer points at itself, so pi_ii marks it (computed a step
    ahead: the node that turns grey in this step is the scanner itself, or none)."""
    # penalty (1 - adj_ij) + grey_j + black_j + pi_ij: 0 exactly for candidates
    w.linear_feature("scan", "penalty", {"grey": 1.0, "black": 1.0, "1": 1.0}, -c.M_scan, {adj: -1.0, parent: 1.0})
    w.linear_feature("scan", "id", {"idx": 1.0}, -c.L_scan)
    # Σα(white + adj - pi) is 2 for a candidate, at most 1 for any other node
    w.slot("found", {"1": -1.0}, {"white": 1.0}, {adj: 1.0, parent: -1.0})
    M = c.M_id
    w.slot("ws", {"1": -2 * M}, {"idx": 1.0, "white": M}, {adj: M, parent: -M})


def _moves(w: HeadWeights, c: DfsConstants) -> None:
    """Head 1: the node the cursor pushes to (its ``ws``) or pops to (its parent, ``pv``;
    a root's is itself) selects the cursor; everyone else a non-cursor."""
    w.linear_feature("move", "cur", {"cur": 1.0}, -c.P)  # a cursor that does not move scores -P
    for name, unmet, target in (("push", UNMET_PUSH, "ws"), ("pop", UNMET_POP, "pv")):
        w.relu("move", name, {}, _is(unmet), 2 * c.P)
        w.match("move", f"to_{name}", target, unmet, c.L_match, c.B_match)
    # receivers: a push lands on a white node that is not the cursor, a pop on a grey one
    pusher = _is(UNMET_PUSH)
    not_white = {"cur": -1.0, "grey": -1.0, "black": -1.0}
    _snapped(w, "pushed", not_white, pusher)
    _snapped(w, "popto", {"white": -1.0, "black": -1.0}, _is(UNMET_POP))
    M = c.M_id
    gate = {n: M * v for n, v in not_white.items()} | {"1": -M}
    w.slot("pvnew", gate, {"idx": 1.0, **{n: M * v for n, v in pusher.items()}})  # the cursor's id
    w.slot("qb", gate | {"idx": 1.0}, {n: M * v for n, v in pusher.items()})  # the own id


def _roots(w: HeadWeights, c: DfsConstants, parent: str) -> None:
    """Head 2: the cursor unless it is black, else (a tree is finished, or before step 0)
    the lowest white node; a white receiver that selected itself (its fed-back pointer
    points at itself) takes the cursor."""
    w.linear_feature("root", "cur", {"cur": 1.0}, c.P_cur)
    w.linear_feature("root", "grey", {"grey": 1.0}, -c.M_scan)
    w.linear_feature("root", "black", {"black": 1.0}, -(c.P_cur + c.M_scan))
    w.linear_feature("root", "id", {"idx": 1.0}, -c.L_scan)
    for name, gate in (("newroot", 0.0), ("root0", 1.0)):
        # relu(Σα pi_ij - cur_sel - grey_i - black_i [- begun_i])
        w.slot(name, {"grey": -1.0, "black": -1.0, "begun": -gate}, {"cur": -1.0}, {parent: 1.0})


def _parent(w: HeadWeights, c: DfsConstants, parent: str) -> None:
    """Head 3: the parent along the fed-back pointer (a white node or a root: itself);
    and the slots that read no attention."""
    w.linear_feature("parent", "pi", {}, c.P, {parent: 1.0})
    w.slot("pv_read", {}, {"idx": 1.0})
    _snapped(w, "start", {"cur": 1.0, "grey": -1.0, "black": -1.0})  # a white cursor: turns grey
    w.slot("finish", {"cur": 1.0, "grey": 1.0, "found": -1.0, "1": -1.0})  # a grey cursor, nothing found
    w.slot("begun", {"1": 1.0})
