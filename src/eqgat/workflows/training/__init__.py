"""Training at the paper's settings (table 4), many seeds in one compiled program.

``python -m eqgat train --algo bfs --seeds 8`` trains 8 initialisations at once: the models
and optimiser states carry a leading seed axis and one ``eqx.filter_vmap``-ed step updates
them all. Seed ``s`` (``--seed S`` gives seeds S, S+1, ...; any seed below 2**63)
initialises its model from ``model_key(s)`` and draws its own graphs from dm-clrs samplers
seeded ``derive_seed(s, n)`` per graph size n, so ``--seeds 2 --seed 0`` trains exactly
what ``--seed 0`` and ``--seed 1`` train alone.

Traces are padded to a per-size time bucket, so training compiles once per graph size.
With several local devices the seed axis is spread over them (``landscape.devices``:
the largest device count dividing ``--seeds``); ``summary.json`` records ``devices``.

Modules: ``_config`` (``TrainConfig``, ``resolve_init``), ``_step`` (the jitted step,
initial models, stacking, attention supervision), ``_evaluation`` (scores, splits,
checkpoints), ``_select`` (best-validation selection), ``_state`` (the whole training
state on disk: periodic saves, resume, SIGINT/SIGTERM), ``_loop`` (the loop and what it
writes).
"""

from ._config import TrainConfig as TrainConfig
from ._config import init_architecture as init_architecture
from ._config import resolve_init as resolve_init
from ._evaluation import eval_batch as eval_batch
from ._evaluation import eval_length as eval_length
from ._evaluation import eval_split as eval_split
from ._evaluation import evaluate_checkpoint as evaluate_checkpoint
from ._evaluation import evaluate_models as evaluate_models
from ._loop import TrainResult as TrainResult
from ._loop import save_trajectory as save_trajectory
from ._loop import train as train
from ._loop import train_processes as train_processes
from ._loop import write_results as write_results
from ._state import Checkpointing as Checkpointing
from ._state import TrainingInterrupted as TrainingInterrupted
from ._state import read_manifest as read_manifest
from ._step import attention_reference as attention_reference
from ._step import init_model as init_model
from ._step import initial_models as initial_models
from ._step import l1 as l1
from ._step import make_step as make_step
from ._step import model_key as model_key
from ._step import optimizer as optimizer
from ._step import skipped_steps as skipped_steps
from ._step import stack as stack
from ._step import supervised_heads as supervised_heads
from ._step import to_host as to_host
from ._step import train_step as train_step
from ._step import unstack as unstack
