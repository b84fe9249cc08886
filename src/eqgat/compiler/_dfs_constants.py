"""Stage 3 of the depth-first backend: ``DfsConstants``, each constant with the reason
its value is safe (``describe``; the construction is in ``_dfs.py``)."""

from dataclasses import dataclass

from ._constants import MARGIN, SAFETY


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


@dataclass(frozen=True)
class DfsConstants(IdResolution):
    """The constants of the compiled ``dfs_light`` for graphs of at most ``max_nodes``
    nodes (ids at least δ = 1/max_nodes apart). ``margin``: the least logit gap of every
    selection."""

    @property
    def K_id(self) -> float:
        """K·(x_i - x_j) >= 1 for ids a δ apart."""
        return 1.0 / self.delta

    # scan (head 0): candidates in [-L1, 0], non-candidates <= -M1, self below them, and
    # at step 0 lower ids below self
    @property
    def L1(self) -> float:
        return 2 * self.margin / self.delta

    @property
    def M1(self) -> float:
        return self.L1 + 2 * self.margin

    @property
    def P_self(self) -> float:
        return 2 * self.M1 + self.L1 + 2 * self.margin

    @property
    def P_low(self) -> float:
        return self.P_self + self.M1 + self.L1 + 2 * self.margin

    # moves (head 1): matched cursor +B, other nodes 0, an unmatched cursor -B
    @property
    def B(self) -> float:
        return 2 * self.margin

    # roots (head 2): self S, a lower white >= W_low, the cursor above every lower white
    @property
    def S(self) -> float:
        return 2 * self.margin

    @property
    def W_low(self) -> float:
        return self.S + 2 * self.margin

    @property
    def P_cur(self) -> float:
        return self.W_low * (self.K_id + 1) + 2 * self.margin

    #: gate of ``ws``, ``pvnew``, ``qb``, ``qa`` (values below 1 against flags)
    M_small: float = 2.0

    @property
    def M_big(self) -> float:
        """Gate against a term up to 1 + K_id (``sw``, ``newroot``)."""
        return self.K_id + 2.0

    #: decoders: the colour logits' gain (the pointer decoder's c and B: ``IdResolution``)
    G: float = 100.0

    def describe(self) -> dict[str, tuple[float, str]]:
        """Every constant with the reason its value is safe (as ``Constants.describe``).
        Logits below are of one receiver; every selection wins by at least ``MARGIN``."""
        n, m = self.max_nodes, self.margin
        return {
            "MARGIN": (m, f"Least logit gap of every selection: the loser keeps e^-{m:g}, below half an ulp of 1 in "
                       "float32, so α is exactly one-hot and every slot exactly 0 or its value."),
            "DELTA": (self.delta, f"1/{n}: the least gap between two ids on graphs of at most {n} nodes (ids increase "
                      "with the index, at least 1/max_nodes apart); every id difference below is at least DELTA."),
            "K_ID": (self.K_id, "1/DELTA: K·(x_i - x_j) is at least 1 for distinct ids, so an id comparison becomes "
                     "a gap of 1 that a ReLU or a gate thresholds exactly."),
            "L1": (self.L1, "Scan (head 0): ω of the id feature; ids DELTA apart score L1·DELTA = 2·MARGIN apart, so "
                   "the lowest-id candidate wins; candidates (penalty 0) score in [-L1, 0] (ids in [0, 1])."),
            "M1": (self.M1, "Scan: ω of the penalty 1 - adj_ij + grey_j + black_j (an integer, 0 exactly for "
                   "candidates): a non-candidate scores at most -M1 = -L1 - 2·MARGIN, below every candidate."),
            "P_SELF": (self.P_self, "Scan: depth of the self bump: the node itself scores below -2·M1 - L1 - 2·MARGIN, "
                       "the least any other node scores (penalty at most 2), so no node scans itself."),
            "P_LOW": (self.P_low, "Scan before step 0 (begun = 0): lower ids lose P_LOW·relu(K·(x_i - x_j)) >= P_LOW, "
                      "below the node itself (at least -P_SELF - M1 - L1) by 2·MARGIN, so every self detector sw is "
                      "exactly 0 or 1."),
            "B": (self.B, "Moves (head 1): a matched cursor scores +B (bump 2·B, cursor -B), other nodes 0, an "
                  "unmatched cursor -B: the move's target wins, and everyone else selects a non-cursor, by 2·MARGIN."),
            "S": (self.S, "Roots (head 2): the receiver's own bonus (a bump), 2·MARGIN above every non-candidate (0)."),
            "W_LOW": (self.W_low, "Roots: ω of relu(K·(x_i - x_j)) for a white j of lower id: at least W_LOW = S + "
                      "2·MARGIN, above the receiver itself; lower ids score W_LOW·K·DELTA = W_LOW more, so "
                      "the lowest wins."),
            "P_CUR": (self.P_cur, "Roots: the cursor's score W_LOW·(K_ID + 1) + 2·MARGIN exceeds the most a lower "
                      "white node scores (W_LOW·K_ID, ids in [0, 1]) plus the self bonus S <= W_LOW, by 2·MARGIN."),
            "M_SMALL": (self.M_small, "Gate of ws, pvnew, qb and qa: relu(v + M·(g - 1)) with v in [0, 1] is v at "
                        "g = 1 and exactly 0 for every g <= 0, since v < M_SMALL."),
            "M_BIG": (self.M_big, "Gate of sw, newroot and root0, whose gated terms reach 1 + K_ID: K_ID + 2 exceeds "
                      "them, so a gate of 0 gives exactly 0."),
            "G": (self.G, f"Colour decoder gain: the state's class scores G, the others 0: softmax leaves "
                  f"e^-{self.G:g} to the rest (G >= SAFETY·MARGIN·2 = {2 * SAFETY * m:g})."),
            "C_POINTER": (self.C_pointer, "Pointer decoder scale (eq. 31's c): ids DELTA apart give logit gaps of "
                          "c·DELTA = 2·MARGIN, so a fed-back pointer is exactly one-hot."),
            "B_POINTER": (self.B_pointer, "Takes a pointer-decoder feature out of its max: exceeds every id and "
                          "pointer (in [0, 1])."),
        }
