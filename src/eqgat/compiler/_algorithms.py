"""Every registered algorithm with a program, compiled by name (``eqgat.algorithms``)."""

from ..nn import Model
from ..algorithms import get_algorithm, names
from ..lang import DepthFirst, GraphProgram
from ._compile import compile_program
from ._dfs import depth_first_hidden_size
from ._layout import minimal_hidden_size as _graph_program_size
from ._options import CompileOptions


def minimal_hidden_size(program: GraphProgram | DepthFirst, mechanism: str = "general") -> int:
    """The smallest hidden size ``program`` compiles to (the default of
    ``compile_program``).

    **Arguments:**

    - `program`: a ``GraphProgram`` or ``DepthFirst`` program.
    - `mechanism`: ``"general"`` or ``"paper"`` (graph programs).

    **Returns:**

    A graph program's largest group of named directions (node features, edge features,
    hidden slots or attention features, under `mechanism`); a ``DepthFirst`` program's
    heads times its largest block. E.g. BFS 4, Bellman-Ford 6 (the paper's mechanism:
    5 and 12), ``dfs_light`` 36, ``dfs`` 104.
    """
    if isinstance(program, DepthFirst):
        return depth_first_hidden_size(program)[0]
    return _graph_program_size(program, mechanism)


def compiled_algorithms() -> list[str]:
    """The names of every registered algorithm with a program (built-ins and a user's)."""
    return names(compiled=True)


def compile_algorithm(algorithm: str, hidden_size: int | None = None, *, max_nodes: int | None = None,
                      options: CompileOptions | None = None) -> Model:
    """The compiled model of the registered ``algorithm``.

    **Arguments:**

    - `algorithm`: a registered algorithm's name (``eqgat.algorithms()``) with a program.
    - `hidden_size`: default: its program's minimal size.
    - `max_nodes`: the largest graph it is exact on (default 128); or give `options`.
    - `options`: a ``CompileOptions`` (default constants when None).

    **Returns:**

    The compiled ``Model``.
    """
    alg = get_algorithm(algorithm)
    if alg.program is None:
        raise ValueError(f"{algorithm!r} has no program to compile (Algorithm.program); compiled algorithms: "
                         f"{', '.join(compiled_algorithms())}")
    return compile_program(alg.program, hidden_size, options=options, max_nodes=max_nodes)
