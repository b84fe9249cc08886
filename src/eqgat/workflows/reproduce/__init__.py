"""``python -m eqgat reproduce NAME --profile smoke|cpu|paper``: the paper's tables and
figures from one command, with eqgat's numbers beside the paper's.

Entries (``ENTRIES``; ``reproduce --list``): tables 2, 3, 5, 7-13 and figures 1-5. Each
is a set of experiments (training setups, shared between entries) run for a profile's
seeds (``PROFILES``), resumed per seed, and reported as ``NAME.json`` and ``NAME.md``.
"""

from ._entries import ENTRIES as ENTRIES, EXPERIMENTS as EXPERIMENTS, Paper as Paper
from ._profiles import PROFILES as PROFILES, get_profile as get_profile
from ._report import fmt as fmt, reasons as reasons, row_result as row_result
from ._reproduce import default_out as default_out, get_entry as get_entry, listing as listing, reproduce as reproduce
from ._runner import run_experiment as run_experiment, still_improving as still_improving, summary as summary
from ._runner import train_config as train_config
