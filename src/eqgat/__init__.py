"""eqgat: shape-checked GATv2 in Equinox for studying how graph attention networks learn
algorithms: compile them exactly into weights, train on CLRS data, compare.

The research loop, in public names::

    import eqgat
    model = eqgat.compile_algorithm("bellman_ford")          # or eqgat.compile_program(my_program)
    report = eqgat.verify(model, graphs="exhaustive")         # .exact, .misses, .near_ties, .worst_gap
    cert = eqgat.certify(model, max_nodes=128)                # a proof for every graph up to 128 nodes
    batch = eqgat.sample("bellman_ford", 16, 32, seed=0)      # an eqgat.Batch with reference traces
    eqgat.score(model, batch)                                 # the CLRS output score
    result = eqgat.train(eqgat.TrainConfig(algo="bellman_ford", steps=100))

An algorithm is one ``eqgat.Algorithm`` record (probes, reference trace, graphs, program);
``eqgat.register_algorithm`` adds a user's own, and every tool then runs on it;
``eqgat.algorithms()`` lists them.

``import eqgat`` never imports dm-clrs or TensorFlow, and the core install has neither:
dm-clrs is the extra ``pip install 'eqgat[clrs]'``, needed only by ``eqgat.data`` with
``backend="clrs"`` and ``eqgat.workflows.interop.predict``, which import it when called.
"""

from .nn import GraphDecoder as GraphDecoder
from .nn import NodeDecoder as NodeDecoder
from .nn import PointerDecoder as PointerDecoder
from .nn import postprocess as postprocess
from .nn import Encoder as Encoder
from .nn import Features as Features
from .nn import GATv2 as GATv2
from .nn import ModelConfig as ModelConfig
from .nn import Model as Model
from .nn import Prediction as Prediction
from .nn import batch_steps as batch_steps
from .nn import run_batch as run_batch
from .nn import node_max as node_max
from .probes import ALGORITHMS as ALGORITHMS
from .probes import CLRS30 as CLRS30
from .probes import live_steps as live_steps
from .probes import Location as Location
from .probes import Probe as Probe
from .probes import Stage as Stage
from .probes import Type as Type
from . import algorithms as algorithms
from .algorithms import Algorithm as Algorithm
from .algorithms import get_algorithm as get_algorithm
from .algorithms import get_spec as get_spec
from .algorithms import graph_inputs as graph_inputs
from .algorithms import max_trace_length as max_trace_length
from .algorithms import register_algorithm as register_algorithm
from .algorithms import register_spec as register_spec
from .nn import attention_loss as attention_loss
from .nn import hint_loss as hint_loss
from .nn import loss as loss
from .nn import output_loss as output_loss
from .nn import prediction_losses as prediction_losses
from .nn import matches as matches
from .nn import output_score as output_score
from .nn import output_scores as output_scores
from .nn import predict as predict
from .nn import score as score
from .data import Batch as Batch
from .data import from_graph as from_graph
from .data import sample as sample
from .compiler import CompileOptions as CompileOptions
from .compiler import compile_algorithm as compile_algorithm
from .compiler import compile_program as compile_program
from .compiler import minimal_hidden_size as minimal_hidden_size
from . import lang as lang
from . import programs as programs
from .workflows.training import TrainConfig as TrainConfig
from .workflows.training import TrainResult as TrainResult
from .workflows.training import train as train
from .workflows.verification import VerifyReport as VerifyReport
from .workflows.verification import verify as verify
from .workflows.verification import verify_algorithm as verify_algorithm
from .workflows.certify import Certificate as Certificate
from .workflows.certify import certify as certify
from .compiler import analyse as _analyse
from .compiler import constants as _constants

#: Every compiler constant with the reason its value is safe, for Bellman-Ford (the
#: program with an incumbent and real values) in float32 on graphs of up to 128 nodes;
#: ``eqgat.compiler.constants(analyse(program), max_nodes=N, x64=...).describe()`` gives
#: any other setting.
CONSTANTS = _constants(_analyse(programs.bellman_ford)).describe()
from .nn import load as load
from .nn import model_config as model_config
from .nn import model_from_config as model_from_config
from .nn import save as save
