"""``python -m eqgat verify``: run a compiled model on graphs and compare every hint step
and the output with dm-clrs' ground truth, with the margins by which it held.

Graph sets (``--graphs``):

- ``sampler``: two distributions per length: ``test`` (dm-clrs' test-split sampler
  settings: ids i/n, edge probability 0.5) and ``train`` (the training pipeline's edge
  probabilities 0.1-0.9 and random sorted ids);
- ``families``: ``eqgat.data.families`` at every length (degenerate shapes and exact ties);
- ``exhaustive``: every undirected graph on up to 5 nodes, from every source, unit weights
  (directed algorithms: every directed graph on up to 4 nodes); ``lengths`` sets the size.

Everything it needs to know about the algorithm comes from its registry entry
(``eqgat.algorithms``): the reference trace, the graphs it runs on and its program, from
which the near-tie analysis reads the selection (candidates, keys, incumbents).

One graph (``verify_graph``, ``verify --graph FILE``): every hint step and output must
match, strictly (a certificate's counterexample is checked this way).

Pointers and masks must be equal, scalars within 1e-4 relative. A miss counts as a
*near-tie* when dm-clrs' own float64 values have, at or before the missed step, two
candidates closer than the compiled model's resolution (``Constants.resolution``), or
exactly tied candidates whose ids are closer than ``1/max_nodes``: the documented limit
of one float logit. Every other miss makes the run fail.

Margins: the smallest attention-logit gap between the selected sender and the runner-up
(over selections with no near-tie), the smallest gate slack (``0.5 - |g - round(g)|`` for
the gate ``g = Σ_j α_ij msk_j``; 0.5 means exactly 0 or 1) and the largest float rounding
of a winning logit (3 ulps) relative to its gap.
"""

from ._api import main as main
from ._api import verifiable as verifiable
from ._api import verify as verify
from ._api import verify_algorithm as verify_algorithm
from ._graph_program import check_batch as check_batch
from ._graphs import DISTRIBUTIONS as DISTRIBUTIONS
from ._graphs import EXHAUSTIVE_DIRECTED_NODES as EXHAUSTIVE_DIRECTED_NODES
from ._graphs import EXHAUSTIVE_LIMIT as EXHAUSTIVE_LIMIT
from ._graphs import EXHAUSTIVE_NODES as EXHAUSTIVE_NODES
from ._graphs import GRAPHS as GRAPHS
from ._graphs import exhaustive_arrays as exhaustive_arrays
from ._single import GraphReport as GraphReport
from ._single import graph_json as graph_json
from ._single import graph_misses as graph_misses
from ._single import read_graph as read_graph
from ._single import verify_graph as verify_graph
from ._report import Margins as Margins
from ._report import Row as Row
from ._report import VerifyReport as VerifyReport
from ._report import format_table as format_table
from ._truth import check_values as check_values
from ._truth import near_ties as near_ties
