"""The architecture: GATv2 in the paper's notation (eqs. 2-14), the CLRS encoders and
decoders, the encode-process-decode ``Model`` and its ``ModelConfig``, dm-clrs' losses,
checkpoints and evaluation (``predict``, ``score``)."""

from ._checkpoint import load as load
from ._checkpoint import model_config as model_config
from ._checkpoint import model_from_config as model_from_config
from ._checkpoint import read_meta as read_meta
from ._checkpoint import save as save
from ._config import ModelConfig as ModelConfig
from ._config import add_flags as add_flags
from ._config import from_flags as from_flags
from ._config import given_flags as given_flags
from ._decoders import GraphDecoder as GraphDecoder
from ._decoders import NodeDecoder as NodeDecoder
from ._decoders import PointerDecoder as PointerDecoder
from ._decoders import node_max as node_max
from ._decoders import postprocess as postprocess
from ._encoders import Encoder as Encoder
from ._encoders import Features as Features
from ._evaluate import matches as matches
from ._evaluate import output_score as output_score
from ._evaluate import output_scores as output_scores
from ._evaluate import predict as predict
from ._evaluate import score as score
from ._gatv2 import ADJACENCY_BIAS as ADJACENCY_BIAS
from ._gatv2 import GATv2 as GATv2
from ._gatv2 import LEAKY_SLOPE as LEAKY_SLOPE
from ._losses import attention_loss as attention_loss
from ._losses import hint_loss as hint_loss
from ._losses import loss as loss
from ._losses import output_loss as output_loss
from ._losses import prediction_losses as prediction_losses
from ._model import Model as Model
from ._model import Prediction as Prediction
from ._model import batch_steps as batch_steps
from ._model import check_batch as check_batch
from ._model import run_batch as run_batch
