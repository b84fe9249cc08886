"""Stage 4 of the depth-first backend: the processor's weights (the three selections
and every slot's update; ``_dfs.py`` describes the construction), written into the
shared buffer (``Weights``) at the named directions of ``dfs_layout``."""

from ..nn import LEAKY_SLOPE
from ._dfs_constants import DfsConstants
from ._dfs_layout import E_ADJ, HEADS, V_ID, state_slots
from ._layout import Layout
from ._weights import Weights


class _DfsWeights(Weights):
    """The shared buffer with the terms the depth-first backend writes: linear sums of
    state parts (``STATE``) and the id, read from the receiver or the sender."""

    def slot(self, name: str) -> int:
        return self.lay.h(name)

    def feature(self, head: str, name: str) -> tuple[int, int]:
        """(row of ζ, index in the head's ω) of a feature."""
        return self.lay.z(f"{head}:{name}"), self.lay.omega_of(f"{head}:{name}")[1]

    def lin(self, W: str, row: int, terms: dict, const: float = 0.0) -> None:
        """row += Σ coeff·(state part or "x") + const, reading C of the receiver (W_skip,
        W_in) or of the sender (W_val, W_out)."""
        for name, coeff in terms.items():
            if name == "x":
                self.W[W][row, V_ID] += coeff
                continue
            for slot, c in state_slots(name):
                self.W[W][row, self.s + self.slot(slot)] += coeff * c
        self.b[W][row] += const


def _relu_pair(w: _DfsWeights, head: str, names: tuple[str, str], receiver: dict, sender: dict, const: float,
               omega: float) -> None:
    """omega·relu(z), z = receiver + sender + const, as (σ(z) + a·σ(-z)) / (1 - a²)."""
    a = LEAKY_SLOPE
    for name, sign, om in ((names[0], 1.0, omega / (1 - a * a)), (names[1], -1.0, a * omega / (1 - a * a))):
        z, k = w.feature(head, name)
        w.lin("W_in", z, {n: sign * c for n, c in receiver.items()})
        w.lin("W_out", z, {n: sign * c for n, c in sender.items()}, sign * const)
        w.omega[HEADS.index(head), k] = om


def _bump(w: _DfsWeights, head: str, prefix: str, sender: dict, receiver: dict, const: float, peak: float,
          width: float) -> None:
    """+peak at u = 0 and exactly 0 for |u| >= width, u = sender + receiver + const."""
    a = LEAKY_SLOPE
    K = 1.0 / width  # relu(1 - K|u|): h = 1
    scale = peak / (1 - a)
    for suffix, h, k_u, om in (("a", 1.0, -K, scale), ("b", 1.0, K, scale), ("c", 0.0, 1.0, -K * scale),
                               ("d", 0.0, -1.0, -K * scale)):
        z, k = w.feature(head, f"{prefix}_{suffix}")
        w.lin("W_out", z, {n: k_u * c for n, c in sender.items()}, h + k_u * const)
        w.lin("W_in", z, {n: k_u * c for n, c in receiver.items()})
        w.omega[HEADS.index(head), k] = om


def compile_processor_dfs(lay: Layout, const: DfsConstants) -> _DfsWeights:
    """The processor's weights at ``lay`` (``dfs_layout``): the three selections and
    every slot's update."""
    w = _DfsWeights(lay)
    _scan(w, const)
    _moves(w, const)
    _roots(w, const)
    _upkeep(w, const)
    return w


#: white = 1 + these
WHITE = {"grey": -1.0, "black": -1.0}


def _scan(w: _DfsWeights, c: DfsConstants) -> None:
    """Head 0: the lowest-id white out-neighbour other than the node itself."""
    z, k = w.feature("scan", "pen")  # 1 - adj_ij + grey_j + black_j >= 0, 0 for candidates
    w.W["W_edge"][z, E_ADJ] = -1.0
    w.lin("W_out", z, {"grey": 1.0, "black": 1.0}, 1.0)
    w.omega[0, k] = -c.M1
    z, k = w.feature("scan", "id")  # x_j: the lowest id wins
    w.lin("W_out", z, {"x": 1.0})
    w.omega[0, k] = -c.L1
    _bump(w, "scan", "self", {"x": 1.0}, {"x": -1.0}, 0.0, -c.P_self, c.delta / 2)  # j = i loses
    # before step 0's scan only (begun = 0), lower ids lose even to the node itself: node
    # 0, the one whose scan matters, has no lower ids, and every other node's
    # self-detector ``sw`` then stays exactly 0 or 1
    _relu_pair(w, "scan", ("low+", "low-"), {"x": c.K_id, "begun": -2 * c.K_id}, {"x": -c.K_id}, 0.0, -c.P_low)
    # values: v = Σα(adj_ij + white_j) - 1 is 1 for a candidate, <= 0 for anyone else
    r = w.slot("fv")
    w.W["W_info"][r, E_ADJ] = 1.0
    w.lin("W_val", r, WHITE, 1.0)
    w.b["W_skip"][r] = -1.0
    r = w.slot("ws")  # relu(Σα x_j + M(v - 1)): the id when found, else 0
    M = c.M_small
    w.W["W_info"][r, E_ADJ] = M
    w.lin("W_val", r, {"x": 1.0, **{n: M * v for n, v in WHITE.items()}}, M)
    w.b["W_skip"][r] = -2 * M
    r = w.slot("sw")  # step 0: the node selected itself (no other node scanned): not found
    w.lin("W_val", r, {"x": -c.K_id})
    w.lin("W_skip", r, {"x": c.K_id, "begun": -c.M_big}, 1.0)


def _moves(w: _DfsWeights, c: DfsConstants) -> None:
    """Head 1: the cursor pushes to ws(cursor) or pops to parent(cursor)."""
    z, k = w.feature("move", "cur")
    w.lin("W_out", z, {"cur": 1.0})
    w.omega[1, k] = -c.B
    # push: u = ws_j - x_i + 4·(3 - cur_j - grey_j - found_j)
    _bump(w, "move", "push", {"ws": 1.0, "cur": -4.0, "grey": -4.0, "found": -4.0}, {"x": -1.0}, 12.0,
          2 * c.B, c.delta / 2)
    # pop: u = pv_j - x_i + 4·(3 - cur_j - grey_j + found_j - hp_j)
    _bump(w, "move", "pop", {"pv": 1.0, "cur": -4.0, "grey": -4.0, "found": 4.0, "hp": -4.0}, {"x": -1.0}, 12.0,
          2 * c.B, c.delta / 2)
    push = {"cur": 1.0, "grey": 1.0, "found": 1.0}  # Σα(push) - 2: 1 for a pushing cursor, <= 0 else
    w.lin("W_val", w.slot("push"), push, -2.0)
    w.lin("W_val", w.slot("popto"), {"cur": 1.0, "grey": 1.0, "found": -1.0, "hp": 1.0}, -2.0)
    M = c.M_small
    r = w.slot("pvnew")  # relu(x_cursor + M(push - 1)): the new parent's id
    w.lin("W_val", r, {"x": 1.0, **{n: M * v for n, v in push.items()}}, -2 * M)
    w.b["W_skip"][r] = -M
    r = w.slot("qb")  # relu(x_i + M(push - 1)): removes the own id from pi when pushed
    w.lin("W_val", r, {n: M * v for n, v in push.items()}, -2 * M)
    w.lin("W_skip", r, {"x": 1.0}, -M)


def _roots(w: _DfsWeights, c: DfsConstants) -> None:
    """Head 2: the cursor, else the lowest lower-id white node, else itself."""
    z, k = w.feature("root", "cur")
    w.lin("W_out", z, {"cur": 1.0})
    w.omega[2, k] = c.P_cur
    _relu_pair(w, "root", ("lower+", "lower-"), {"x": c.K_id}, {"x": -c.K_id, "grey": -c.K_id, "black": -c.K_id},
               0.0, c.W_low)
    _bump(w, "root", "self", {"x": 1.0}, {"x": -1.0}, 0.0, c.S, c.delta / 2)
    for name, gate in (("newroot", 0.0), ("root0", c.M_big)):
        # relu(1 - K(x_i - x_sel) - M·cur_sel - M·(grey_i + black_i) [- M·begun_i])
        r = w.slot(name)
        w.lin("W_val", r, {"x": c.K_id, "cur": -c.M_big})
        w.lin("W_skip", r, {"x": -c.K_id, "grey": -c.M_big, "black": -c.M_big, "begun": -gate}, 1.0)


def _upkeep(w: _DfsWeights, c: DfsConstants) -> None:
    """The slots that read no attention."""
    w.lin("W_skip", w.slot("gk1"), {"grey": 1.0, "cur": -1.0})  # grey, not the cursor
    w.lin("W_skip", w.slot("gk2"), {"grey": 1.0, "cur": 1.0, "found": 1.0}, -2.0)  # a cursor that pushes
    w.lin("W_skip", w.slot("gG"), {"cur": 1.0, "grey": -1.0, "black": -1.0})  # a white cursor
    w.lin("W_skip", w.slot("bk"), {"black": 1.0})
    w.lin("W_skip", w.slot("bF"), {"grey": 1.0, "cur": 1.0, "found": -1.0}, -1.0)  # a cursor that finishes
    w.b["W_skip"][w.slot("begun")] = 1.0
    w.lin("W_skip", w.slot("pvk"), {"pv": 1.0})
    w.lin("W_skip", w.slot("hpk"), {"hp": 1.0})
    w.lin("W_skip", w.slot("qa"), {"x": 1.0, "hp": -c.M_small})  # the own id while no parent
