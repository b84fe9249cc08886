"""Every algorithm eqgat compiles, by name: the graph programs of ``eqgat.programs``
(stages 1-5) and ``dfs_light`` (``_dfs.py``: the full-attention DFS)."""

from .._model import Model
from ..programs import PROGRAMS
from ._compile import compile_program
from ._dfs import compile_dfs_light

#: Names ``compile_algorithm`` accepts.
COMPILED = (*PROGRAMS, "dfs_light")


def compile_algorithm(algorithm: str, hidden_size: int | None = None, *, max_nodes: int | None = None) -> Model:
    """The compiled model of ``algorithm`` at ``hidden_size`` (default: its minimal size),
    exact on graphs of at most ``max_nodes`` nodes (default 128), with default constants."""
    if algorithm == "dfs_light":
        return compile_dfs_light(hidden_size, max_nodes=max_nodes)
    if algorithm not in PROGRAMS:
        raise ValueError(f"no compiled {algorithm!r}; compiled algorithms: {', '.join(COMPILED)}")
    return compile_program(PROGRAMS[algorithm], hidden_size, max_nodes=max_nodes)
