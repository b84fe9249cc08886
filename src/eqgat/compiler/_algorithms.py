"""Every algorithm eqgat compiles, by name: the graph programs of ``eqgat.programs``
(stages 1-5) and its sequential programs (``SEQUENTIAL``: ``dfs_light``, compiled by
``_dfs.py`` for full attention)."""

from .._model import Model
from ..programs import PROGRAMS, SEQUENTIAL
from ._compile import compile_program

#: Names ``compile_algorithm`` accepts.
COMPILED = (*PROGRAMS, *SEQUENTIAL)


def compile_algorithm(algorithm: str, hidden_size: int | None = None, *, max_nodes: int | None = None) -> Model:
    """The compiled model of ``algorithm`` at ``hidden_size`` (default: its minimal size),
    exact on graphs of at most ``max_nodes`` nodes (default 128), with default constants."""
    programs = {**PROGRAMS, **SEQUENTIAL}
    if algorithm not in programs:
        raise ValueError(f"no compiled {algorithm!r}; compiled algorithms: {', '.join(COMPILED)}")
    return compile_program(programs[algorithm], hidden_size, max_nodes=max_nodes)
