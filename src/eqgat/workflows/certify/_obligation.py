"""A proof obligation's result, the scenarios the obligations range over, and the small
algebra they share (solving a form for a variable, substituting)."""

import math
from dataclasses import dataclass, field
from typing import no_type_check  # hot pure-Python loops: no per-call checks (package docstring)

from ._forms import Domain, Form
from ._states import Node, NodeClass, Point

#: The most softmax mass the losers may keep (obligation 2).
LEAK = 2.0 ** -40
#: Scalar decoders: verify's tolerance |pred - truth| <= RTOL·|truth| + ATOL.
RTOL, ATOL = 1e-4, 1e-6


@dataclass
class Obligation:
    """One proof obligation's result.

    **Arguments:**

    - `name`: its name.
    - `what`: what it proves, in a sentence.
    - `configurations`: how many local configuration classes it covered (each a box of
      ids, values and weights).
    - `worst`: its worst slack (>= 0 holds; `unit` says in what).
    - `unit`: the slack's unit.
    - `where`: the configuration where the worst slack occurs.
    - `passed`: whether it holds.
    - `detail`: the worst configuration's variables (for the counterexample search).
    """

    name: str
    what: str
    configurations: int = 0
    worst: float = math.inf
    unit: str = ""
    where: str = ""
    passed: bool = True
    detail: dict = field(default_factory=dict)

    def see(self, slack: float, where, detail: dict | None = None, *, ok: bool | None = None,
            count: int = 1) -> None:
        """Count ``count`` configurations (that share one bound) with ``slack`` (``ok``:
        whether it holds; default slack >= 0); ``where`` (a string, or a function giving
        one) names it when it is the worst so far."""
        self.configurations += count
        if slack < self.worst:
            self.worst = slack
            self.where = where() if callable(where) else where
            self.detail = detail or {}
        if not (slack >= 0.0 if ok is None else ok):
            self.passed = False

    def to_json(self) -> dict:
        return {"name": self.name, "what": self.what, "configurations": self.configurations,
                "worst_slack": self.worst if math.isfinite(self.worst) else None, "unit": self.unit,
                "where": self.where, "passed": self.passed}


@no_type_check
@dataclass
class Scenario:
    """A receiver, its candidates, and what the round does: ``winner`` (None: the empty
    mixture), the substitution that ties the receiver to it, and the next state."""

    recv: Node
    points: list[Point]
    dom: Domain
    winner: Point | None
    subs: dict
    next_cls: NodeClass
    next_vals: dict
    next_delta: Form
    mixture: list[Point] = field(default_factory=list)

    def describe(self) -> str:
        r = f"receiver: {self.recv.cls.describe()}"
        if self.winner is not None:
            return r + f"; the selection picks {self.winner.describe()}"
        return r + "; no masked candidate (the attention mixes its unmasked senders)"


@no_type_check
def solve(K: Form, var: str, target: Form) -> Form:
    """The value of ``var`` that makes ``K`` equal ``target``."""
    c = K.coef[var]
    rest = Form(K.const, {k: v for k, v in K.coef.items() if k != var})
    return (target - rest) * (1.0 / c)


@no_type_check
def apply_all(f: Form, subs: dict) -> Form:
    """``f`` with every substitution of ``subs`` (variable -> form) applied in turn."""
    for k, v in subs.items():
        f = f.substitute(k, v)
    return f
