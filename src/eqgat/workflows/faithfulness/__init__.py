"""Faithfulness metrics (paper section 4.3, eqs. 24-25) and their figures.

- φ_external (eq. 24): per hint step, the fraction of a model's trace predictions within a
  margin of the ground truth, by probe type (the paper's margins: scalars 0.5, masks 0.1
  on the predicted probability, pointers 1e-6 on the predicted node id), on a normalised
  time axis so traces of different lengths average together.
- φ_internal (eq. 25): per step, the mean |α̂ - α*| between a model's attention and the
  compiled model's on the same graphs fed the same (ground-truth) trace, over the graph's
  real edges (and self pairs; every pair under full attention). With several heads:
  each working head of the compiled model against its closest learned head.

Two references α*: the general mechanism's (``reference="general"``: a node keeps its
state through ReLU gates and attends to some neighbour) and the paper's
(``reference="paper"``: a node with nothing to update attends to itself, compiled at the
evaluation graphs' size). They differ on every kept node, so φ_internal depends on it.
"""

from ._figures import figures as figures
from ._figures import replot as replot
from ._metrics import MARGINS as MARGINS
from ._metrics import attention as attention
from ._metrics import correlation as correlation
from ._metrics import external as external
from ._metrics import internal as internal
from ._metrics import reference_heads as reference_heads
from ._metrics import time_bins as time_bins
from ._run import REFERENCES as REFERENCES
from ._run import SPLITS as SPLITS
from ._run import eval_graphs as eval_graphs
from ._run import reference_model as reference_model
from ._run import run as run
