"""eqgat: shape-checked GATv2 in Equinox for studying how graph attention networks learn
algorithms: compile them exactly into weights, train on CLRS data, compare.

The research loop, in public names::

    import eqgat
    model = eqgat.compile_algorithm("bellman_ford")          # or eqgat.compile_program(my_program)
    report = eqgat.verify(model, graphs="exhaustive")         # .exact, .misses, .near_ties, .worst_gap
    batch = eqgat.sample("bellman_ford", 16, 32, seed=0)      # an eqgat.Batch with reference traces
    eqgat.score(model, batch)                                 # the CLRS output score
    result = eqgat.train(eqgat.TrainConfig(algo="bellman_ford", steps=100))

An algorithm is one ``eqgat.Algorithm`` record (probes, reference trace, graphs, program);
``eqgat.register_algorithm`` adds a user's own, and every tool then runs on it;
``eqgat.algorithms()`` lists them.

``import eqgat`` never imports dm-clrs or TensorFlow; only ``eqgat.data`` (with
``backend="clrs"``) and ``eqgat.interop`` do, when called.
"""

from ._decoders import GraphDecoder as GraphDecoder
from ._decoders import NodeDecoder as NodeDecoder
from ._decoders import PointerDecoder as PointerDecoder
from ._decoders import postprocess as postprocess
from ._encoders import Encoder as Encoder
from ._encoders import Features as Features
from ._gatv2 import GATv2 as GATv2
from ._config import ModelConfig as ModelConfig
from ._model import Model as Model
from ._model import Prediction as Prediction
from ._model import batch_steps as batch_steps
from ._model import run_batch as run_batch
from ._decoders import node_max as node_max
from ._spec import ALGORITHMS as ALGORITHMS
from ._spec import CLRS30 as CLRS30
from ._spec import live_steps as live_steps
from ._spec import Location as Location
from ._spec import Probe as Probe
from ._spec import Stage as Stage
from ._spec import Type as Type
from . import algorithms as algorithms
from .algorithms import Algorithm as Algorithm
from .algorithms import get_algorithm as get_algorithm
from .algorithms import get_spec as get_spec
from .algorithms import graph_inputs as graph_inputs
from .algorithms import max_trace_length as max_trace_length
from .algorithms import register_algorithm as register_algorithm
from .algorithms import register_spec as register_spec
from ._losses import hint_loss as hint_loss
from ._losses import loss as loss
from ._losses import output_loss as output_loss
from ._losses import prediction_losses as prediction_losses
from ._evaluate import matches as matches
from ._evaluate import output_score as output_score
from ._evaluate import output_scores as output_scores
from ._evaluate import predict as predict
from ._evaluate import score as score
from .data import Batch as Batch
from .data import from_graph as from_graph
from .data import sample as sample
from .compiler import CompileOptions as CompileOptions
from .compiler import compile_algorithm as compile_algorithm
from .compiler import compile_program as compile_program
from .compiler import minimal_hidden_size as minimal_hidden_size
from . import lang as lang
from . import programs as programs
from .training import TrainConfig as TrainConfig
from .training import TrainResult as TrainResult
from .training import train as train
from .verification import VerifyReport as VerifyReport
from .verification import verify as verify
from .verification import verify_algorithm as verify_algorithm
from .compiler import analyse as _analyse
from .compiler import constants as _constants

#: Every compiler constant with the reason its value is safe, for Bellman-Ford (the
#: program with an incumbent and real values) in float32 on graphs of up to 128 nodes;
#: ``eqgat.compiler.constants(analyse(program), max_nodes=N, x64=...).describe()`` gives
#: any other setting.
CONSTANTS = _constants(_analyse(programs.bellman_ford)).describe()
from ._checkpoint import load as load
from ._checkpoint import model_config as model_config
from ._checkpoint import model_from_config as model_from_config
from ._checkpoint import save as save
