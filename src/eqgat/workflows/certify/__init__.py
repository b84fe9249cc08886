"""``eqgat certify``: a proof, by local configurations, that a compiled model is exact on
every graph of up to N nodes (issue 34).

Every step of a compiled graph program is local: the attention logit for (i, j) depends
on the receiver's features, the sender's and their edge; the selection is a softmax over
senders; the update is ReLU-gated. So exactness on every graph of up to N nodes follows
from obligations over *local configurations*: a receiver's class (start, reached or not,
how its state was produced), each candidate sender's class and edge, with ids, values and
weights left as variables of a box. Each obligation (``_obligations``, ``_margins``,
``_decoders``) is evaluated in the model's own float32 arithmetic with its real weights,
read from the pytree (the compiler's ``Layout`` says which directions mean what), as
affine forms with a rounding bound
(``_forms``: the stated error model):

1. ``selection margin``: the program's preferred sender has the higher logit;
2. ``softmax leak``: by enough that the losers' mass is negligible (usually exactly 0);
3. ``gate slack``: every gate the round closes is exactly 0;
4. ``decoder margins``: hints and outputs decode to the program's values;
5. ``clean state``: the state after a step is the program's, up to an error bound
   iterated over the trace's steps, with which the other obligations are checked.

``certify(model, max_nodes=N)`` returns a ``Certificate``; for a refused model a search
(``_counterexample``) looks for a concrete graph the model misses, which
``python -m eqgat verify --checkpoint PATH --graph FILE`` reruns.

The proof is pure-Python arithmetic on small affine forms, millions of calls per
certificate: its classes are marked ``typing.no_type_check``, so that jaxtyping's import
hook (the test suite's) does not wrap each call in a runtime type check.
"""

from ._broken import flip_smallest_omega as flip_smallest_omega
from ._broken import small_gate as small_gate
from ._broken import without_parent_bonus as without_parent_bonus
from ._certificate import ERROR_MODEL as ERROR_MODEL
from ._certificate import Certificate as Certificate
from ._certificate import certify as certify
from ._counterexample import Counterexample as Counterexample
from ._counterexample import write_graph as write_graph
from ._obligation import Obligation as Obligation
from ._precondition import Precondition as Precondition
