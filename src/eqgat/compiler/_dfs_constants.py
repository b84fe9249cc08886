"""Stage 3 of the depth-first backend: ``DfsConstants``, each constant with the reason
its value is safe (``describe``; the construction is in ``_dfs.py``)."""

from dataclasses import dataclass

from ._constants import MARGIN


@dataclass(frozen=True)
class IdResolution:
    """What both depth-first constructions' constants share: graphs of at most
    ``max_nodes`` nodes with ids at least δ = 1/max_nodes apart, the least logit gap
    ``margin``, and the eq.-31 pointer decoder sized for them."""

    max_nodes: int
    margin: float = MARGIN
    #: takes a pointer-decoder feature out of its max (ids and pointers lie in [0, 1])
    B_pointer: float = 4.0

    @property
    def delta(self) -> float:
        return 1.0 / self.max_nodes

    @property
    def C_pointer(self) -> float:
        """eq. 31's c: ids δ apart give pointer logits 2·margin apart."""
        return 2 * self.margin / self.delta

    # the selections both depth-first constructions build (each describes them in its own terms)
    @property
    def L_scan(self) -> float:
        """Scan: ω of the sender's id; ids δ apart score 2·margin apart."""
        return 2 * self.margin / self.delta

    @property
    def M_scan(self) -> float:
        """Scan: ω of a non-candidate's penalty (an integer >= 1): it scores below every candidate."""
        return self.L_scan + 2 * self.margin

    @property
    def P(self) -> float:
        """The bonus of the sender a receiver wants (the cursor, a parent) over the rest."""
        return 2 * self.margin

    @property
    def L_match(self) -> float:
        """Push and pop: ω of |target - x_i|: a target δ off loses 2·margin below the rest."""
        return 4 * self.margin / self.delta

    #: takes a V-shape's argument (ids, |.| <= 1) out of the relu: 2 per unmet flag
    B_match: float = 2.0
    #: gate of an id-valued slot (ids <= 1)
    M_id: float = 2.0
    #: colour decoder gain
    G: float = 100.0


@dataclass(frozen=True)
class DfsConstants(IdResolution):
    """The constants of the compiled ``dfs_light`` (the light construction) for graphs of
    at most ``max_nodes`` nodes (ids increasing with the index, at least δ = 1/max_nodes
    apart), each with the reason its value is safe (``describe``).

    No logit is a difference of large terms: every ω multiplies a feature of at most a
    few units (ids, flags, an id difference gated by flags), so a relative change ε of a
    weight moves a logit by about ε·(the largest ω), ~1e4·ε against the margin.

    **Arguments:**

    - `max_nodes`: the largest graph; sets the id resolution δ.
    - `margin`: the least logit gap of every selection and decoder (``MARGIN``)."""

    @property
    def P_cur(self) -> float:
        """Roots: a cursor that is not black scores above every white node."""
        return self.M_scan + self.L_scan + 2 * self.margin

    def describe(self) -> dict[str, tuple[float, str]]:
        """Every constant with the reason its value is safe (as ``Constants.describe``)."""
        n, m = self.max_nodes, self.margin
        return {
            "MARGIN": (m, f"Least logit gap of every selection and every decoder: the loser keeps e^-{m:g}, so "
                       "attention and the fed-back hints are one-hot to float precision."),
            "DELTA": (self.delta, f"1/{n}: the least gap between two ids (ids increase with the index)."),
            "L_SCAN": (self.L_scan, "Scan and roots: ω of the sender's id; the lowest-id candidate wins by "
                       "L_SCAN·DELTA = 2·MARGIN."),
            "M_SCAN": (self.M_scan, "Scan: ω of the penalty (1 - adj_ij) + grey_j + black_j + pi_ij, an integer that "
                       "is 0 exactly for a white out-neighbour other than a white receiver itself (whose fed-back "
                       "pointer points at itself); roots: ω of grey_j. A non-candidate scores below -L_SCAN - "
                       "2·MARGIN."),
            "P": (self.P, "Moves and parent heads: the sender the receiver wants scores P = 2·MARGIN above the rest "
                  "(0); a cursor that does not move scores -P."),
            "P_CUR": (self.P_cur, "Roots: a cursor that is not black scores P_CUR - M_SCAN·grey - L_SCAN·x >= "
                      "2·MARGIN above every white node; a black one P_CUR - (P_CUR + M_SCAN) = -M_SCAN, below them."),
            "L_MATCH": (self.L_match, "Moves: ω of |target_j - x_i|; a target DELTA away from the receiver's id scores "
                        "P - L_MATCH·DELTA = -2·MARGIN, below the rest."),
            "B_MATCH": (self.B_match, "Moves: an unmet flag of the sender shifts the V-shape's arguments (ids, at "
                        "most 1 apart) below 0, so it adds nothing."),
            "M_ID": (self.M_id, "Gate of an id-valued slot: relu(id - M_ID·unmet) is 0 for unmet >= 1 (ids <= 1)."),
            "G": (self.G, f"Colour decoder gain: the others keep e^-{self.G:g}."),
            "C_POINTER": (self.C_pointer, "Pointer decoder scale (eq. 31's c): ids DELTA apart give logit gaps of "
                          "2·MARGIN."),
            "B_POINTER": (self.B_pointer, "Takes a pointer-decoder feature out of its max (ids <= 1)."),
        }
