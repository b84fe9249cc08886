"""The shared weight buffer of both depth-first constructions (stage 4): terms written
by name (node features V, state parts of H, the constant "1") read from the receiver or
the sender, and the logit shapes both build selections from: linear features, exact
relus and the V-shaped id match."""

from collections.abc import Callable

import numpy as np

from ..nn import LEAKY_SLOPE
from ._layout import Layout
from ._weights import Weights


class HeadWeights(Weights):
    """``Weights`` with one block per head, written by name.

    **Arguments:**

    - `lay`: the construction's ``Layout`` (named heads, V, E, H and ζ).
    - `state_slots`: a state part (or a slot) of H as (slot, coefficient) pairs."""

    def __init__(self, lay: Layout, state_slots: Callable[[str], list[tuple[str, float]]]):
        super().__init__(lay)
        self.state_slots = state_slots

    def feature(self, head: str, name: str) -> tuple[int, int, int]:
        """(row of ζ, head, index in the head's ω) of a feature."""
        h, k = self.lay.omega_of(f"{head}:{name}")
        return self.lay.z(f"{head}:{name}"), h, k

    def lin(self, W: str, row: int, terms: dict, const: float = 0.0) -> None:
        """row += Σ coeff·(node feature, state part or "1") + const, reading C = [V | H] of
        the receiver (W_skip, W_in) or of the sender (W_val, W_out)."""
        for name, coeff in terms.items():
            if name == "1":
                const += coeff
            elif name in self.lay.V:
                self.W[W][row, self.lay.v(name)] += coeff
            else:
                for slot, c in self.state_slots(name):
                    self.W[W][row, self.s + self.lay.h(slot)] += coeff * c
        self.b[W][row] += const

    def slot(self, name: str, skip: dict, value: dict | None = None, info: dict | None = None) -> None:
        """Slot ``name`` = relu(skip(receiver) + Σ_j α_ij value(sender j) + Σ_j α_ij info(E_ij))."""
        r = self.lay.h(name)
        self.lin("W_skip", r, skip)
        if value:
            self.lin("W_val", r, value)
        for e, coeff in (info or {}).items():
            self.W["W_info"][r, self.lay.e(e)] += coeff

    def linear_feature(self, head: str, name: str, sender: dict, omega: float, edge: dict | None = None) -> None:
        """omega·(a sender's linear sum plus edge features, >= 0, so the leaky ReLU passes
        it unchanged)."""
        z, h, k = self.feature(head, name)
        self.lin("W_out", z, sender)
        for e, coeff in (edge or {}).items():
            self.W["W_edge"][z, self.lay.e(e)] += coeff
        self.omega[h, k] = omega

    def relu(self, head: str, name: str, receiver: dict, sender: dict, omega: float) -> None:
        """omega·relu(receiver + sender) as (σ(z) + a·σ(-z)) / (1 - a²) (features name+, name-)."""
        a = LEAKY_SLOPE
        for sign, suffix, om in ((1.0, "+", omega / (1 - a * a)), (-1.0, "-", a * omega / (1 - a * a))):
            z, h, k = self.feature(head, name + suffix)
            self.lin("W_in", z, {n: sign * c for n, c in receiver.items()})
            self.lin("W_out", z, {n: sign * c for n, c in sender.items()})
            self.omega[h, k] = om

    def match(self, head: str, name: str, target: str, unmet: dict, L: float, B: float) -> None:
        """-L·|target_j - x_i| while the sender's ``unmet`` (a sum of flags, an integer
        >= 0) is 0, else 0: two relus of (±(target_j - x_i) - B·unmet_j); no term larger
        than L·(1 + B·unmet) and none cancelled."""
        gate = {n: -B * v for n, v in unmet.items()}
        self.relu(head, f"{name}_a", {"idx": -1.0}, {target: 1.0, **gate}, -L)
        self.relu(head, f"{name}_b", {"idx": 1.0}, {target: -1.0, **gate}, -L)


def read_part(hidden: np.ndarray, lay: Layout, state_slots: Callable[[str], list[tuple[str, float]]],
              name: str) -> np.ndarray:
    """A state part (or a slot) of hidden states ``[..., s]`` laid out by ``lay``: the sum
    of its slots, ``[...]``."""
    out = np.zeros(hidden.shape[:-1])
    for slot, coeff in state_slots(name):
        out = out + coeff * hidden[..., lay.h(slot)]
    return out
