"""What the training benchmarks share: dm-clrs' BaselineModel(gatv2) at the paper's table-4
settings, and a stream of identical batches for it and for eqgat."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import clrs  # noqa: E402
import numpy as np  # noqa: E402

from eqgat import max_trace_length  # noqa: E402
from eqgat.data import TRAIN_P, from_clrs  # noqa: E402

LENGTHS = (4, 7, 11, 13, 16)


def clrs_model(fb, spec, *, seed: int = 42, hidden: int = 128):
    """dm-clrs' BaselineModel(gatv2) with table 4's settings, initialised from ``seed``."""
    model = clrs.models.BaselineModel(
        spec=spec, dummy_trajectory=fb, hidden_dim=hidden, encode_hints=True, decode_hints=True,
        processor_factory=clrs.get_processor_factory("gatv2", use_ln=True, nb_heads=1, nb_triplet_fts=0),
        encoder_init="xavier_on_scalars", learning_rate=1e-4, grad_clip_max_norm=1.0,
        dropout_prob=0.0, hint_teacher_forcing=0.0, hint_repred_mode="soft",
    )
    model.init(fb.features, seed)
    return model


class Data:
    """dm-clrs feedback with random positions (training distribution), and the same graphs
    as an eqgat ``Batch`` padded to the size's time bucket."""

    def __init__(self, algo: str, seed: int, lengths=LENGTHS):
        self.algo = algo
        self.samplers = {n: clrs.build_sampler(algo, num_samples=-1, length=n, seed=seed + n, p=TRAIN_P) for n in lengths}
        self.rng = np.random.default_rng(seed)

    def next(self, n: int, b: int = 32):
        sampler, spec = self.samplers[n]
        fb = sampler.next(b)
        pos = [x for x in fb.features.inputs if x.name == "pos"][0]
        pos.data = np.sort(self.rng.uniform(size=pos.data.shape), axis=1)
        return fb, spec, from_clrs(self.algo, fb.features, fb.outputs, trace_length=max_trace_length(self.algo, n))
