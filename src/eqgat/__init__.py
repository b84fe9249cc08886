"""eqgat: shape-checked GATv2 in Equinox for studying how graph attention networks learn
algorithms: compile them exactly into weights, train on CLRS data, compare.

``import eqgat`` never imports dm-clrs or TensorFlow; only ``eqgat.data`` (sampling) and
``eqgat.interop`` do, when called.
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
from ._model import run_batch as run_batch
from ._spec import ALGORITHMS as ALGORITHMS
from ._spec import Probe as Probe
from ._spec import get_spec as get_spec
from ._spec import max_trace_length as max_trace_length
from ._losses import hint_loss as hint_loss
from ._losses import loss as loss
from ._losses import output_loss as output_loss
from ._losses import prediction_losses as prediction_losses
from .compiler import compile_program as compile_program
from .compiler import minimal_hidden_size as minimal_hidden_size
from ._spec import register_spec as register_spec
from . import lang as lang
from . import programs as programs
from .compiler import analyse as _analyse
from .compiler import constants as _constants

#: Every compiler constant with the reason its value is safe, for Bellman-Ford (the
#: program with an incumbent and real values) in float32 on graphs of up to 128 nodes;
#: ``eqgat.compiler.constants(analyse(program), max_nodes=N, x64=...).describe()`` gives
#: any other setting.
CONSTANTS = _constants(_analyse(programs.bellman_ford)).describe()
from ._checkpoint import load as load
from ._checkpoint import model_config as model_config
from ._checkpoint import save as save
