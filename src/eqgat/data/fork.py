"""dm-clrs' own samplers driving any registered algorithm's reference trace (the
``backend="clrs"`` data path for algorithms dm-clrs does not have: the paper authors'
``bfs_seq`` and ``dfs_light``, table 13, and a user's own).

``build_sampler`` picks the dm-clrs sampler class whose graphs the algorithm runs on
(``Algorithm.directed``, ``weighted``, ``has_source``): ``BfsSampler`` (undirected, a
source), ``BellmanFordSampler`` (weighted undirected, a source) or ``DfsSampler``
(directed), and wraps the reference trace in dm-clrs' probes, so the data come in the same
form, seeds and splits as every other algorithm's. The reference traces of the fork's two
algorithms live in their registry modules (``eqgat.algorithms.bfs_seq``,
``eqgat.algorithms.dfs_light``); their names are kept here.
"""

from typing import Any

import numpy as np

from .._extras import import_clrs
from ..algorithms import Algorithm, get_algorithm
from ..algorithms.bfs_seq import bfs_seq_trace as bfs_seq_trace
from ..algorithms.dfs_light import dfs_light_trace as dfs_light_trace

#: (directed, weighted, has_source) -> the dm-clrs sampler class drawing such graphs.
SAMPLER_CLASSES = {(False, False, True): "BfsSampler", (False, True, True): "BellmanFordSampler",
                   (True, False, False): "DfsSampler"}


def clrs_spec(alg: Algorithm) -> dict[str, tuple[str, str, str]]:
    """eqgat's probe table in dm-clrs' form (name -> (stage, location, type))."""
    return {p.name: (p.stage, p.location, p.type) for p in alg.spec}


def _probed(alg: Algorithm, A: np.ndarray, s: int | None = None):
    """dm-clrs' (output, probes) of ``alg``'s reference trace on ``A``."""
    probing = import_clrs("clrs._src.probing", needed_by="eqgat.data.fork")
    inputs, hints, outputs = alg.trace(np.copy(A), s)
    probes = probing.initialize(clrs_spec(alg))
    probing.push(probes, "input", next_probe=inputs)
    for h in hints:
        probing.push(probes, "hint", next_probe=h)
    probing.push(probes, "output", next_probe=outputs)
    probing.finalize(probes)
    return next(iter(outputs.values())), probes


def build_sampler(algorithm: str, *, num_samples: int, length: int, seed: int, p=(0.5,),
                  track_max_steps: bool = True) -> Any:
    """A dm-clrs sampler of the registered ``algorithm``, drawing the graphs dm-clrs'
    sampler of the same kind draws (see the module docstring) and tracing them with the
    algorithm's reference."""
    samplers = import_clrs("clrs._src.samplers", needed_by="eqgat.data.fork.build_sampler")
    alg = get_algorithm(algorithm)
    kind = (alg.directed, alg.weighted, alg.has_source)
    if kind not in SAMPLER_CLASSES:
        raise ValueError(f"dm-clrs has no sampler of {algorithm!r}'s graphs (directed={alg.directed}, "
                         f"weighted={alg.weighted}, has_source={alg.has_source}); use backend='numpy'")
    if not alg.sampled:
        raise ValueError(f"{algorithm!r} has no reference trace (Algorithm.reference), so nothing to sample")
    cls = getattr(samplers, SAMPLER_CLASSES[kind])
    return cls(lambda *args: _probed(alg, *args), clrs_spec(alg), num_samples, seed=seed,
               track_max_steps=track_max_steps, length=length, p=p)
