"""The orchestrator: the backends, one per program type (``Backend``), and for graph
programs stages 1-5 in order, the processor into the shared ``Weights`` and the model
built by ``assemble`` (``_weights.py``), as every backend does."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from ..nn import ModelConfig
from ..nn import Model
from ..lang import DepthFirst, GraphProgram
from ._analyse import Plan, analyse
from ._constants import Constants, constants
from ._layout import Layout, layout
from ._options import CompileOptions
from ._probes import compile_decoders, compile_encoders
from ._paper import compile_processor_paper
from ._processor import compile_processor
from ._weights import assemble


@dataclass(frozen=True)
class Compiled:
    """What stages 1-3 produced (the plan, the layout and the constants); ``build()`` runs
    stages 4-5 and returns the model."""

    plan: Plan
    layout: Layout
    constants: Constants

    def build(self) -> Model:
        """Stages 4-5: every weight of a zero ``Model`` (float64 when ``constants.x64``)."""
        plan, lay, const = self.plan, self.layout, self.constants
        if const.x64 and not jax.config.jax_enable_x64:
            raise ValueError("compiling with x64=True needs jax_enable_x64 (jax.config.update('jax_enable_x64', True) "
                             "or the jax.enable_x64() context)")
        dtype = jnp.float64 if const.x64 else jnp.float32
        # the architecture's shapes only (no random weights), then every weight from zero
        paper = lay.mechanism == "paper"
        config = ModelConfig(plan.program.algorithm, lay.hidden_size, 1, use_ln=False, use_edge_info=plan.use_edge_info,
                             use_pre_att_bias=paper, nb_nodes=const.max_nodes if paper else None)
        B = None
        if paper:
            weights, B = compile_processor_paper(plan, lay, const)
        else:
            weights = compile_processor(plan, lay, const)

        def probes(model: Model) -> Model:
            model = compile_encoders(plan, lay, model, dtype)
            return compile_decoders(plan, lay, model, const, dtype)

        return assemble(config, weights, probes, dtype, B)


def compile_stages(program: GraphProgram, hidden_size: int | None = None, *, options: CompileOptions | None = None,
                   max_nodes: int | None = None, x64: bool = False, scale: int | float | None = None,
                   mechanism: str = "general", nodes: int | None = None) -> Compiled:
    """Stages 1-3 of ``compile_program`` for a graph program (no weights yet; ``.build()``
    writes them). ``options`` or the keywords: ``CompileOptions``."""
    opts = CompileOptions.of(options, max_nodes=max_nodes, x64=x64, scale=scale, mechanism=mechanism, nodes=nodes)
    plan = analyse(program)
    return Compiled(plan, layout(plan, hidden_size, opts.mechanism),
                    constants(plan, max_nodes=opts.graph_size, x64=opts.x64, scale=opts.scale,
                              mechanism=opts.mechanism))


@dataclass(frozen=True)
class Artifact:
    """A compiled model with what its checkpoint records about the compilation
    (``info``: the graph size, resolution, constants and the layout of named directions)
    and a ``summary`` to print."""

    model: Model
    info: dict[str, Any]
    summary: str
    layout: Layout | None = None  # the named directions (``info["layout"]`` as a ``Layout``)


@dataclass(frozen=True)
class Backend:
    """One compiler backend: the program type it compiles, the ``CompileOptions`` fields
    it takes, and ``compile(program, hidden_size, options) -> Artifact``."""

    name: str
    program_type: type
    options: frozenset[str]
    compile: Callable[[Any, int | None, CompileOptions], Artifact]
    about: str = ""  # what it writes, in a few words (said when it refuses an option)

    def check(self, options: CompileOptions) -> None:
        """A ``ValueError`` naming each option of ``options`` this backend does not take."""
        about = f": {self.about}" if self.about else ""
        options.check_for(f"the {self.name} backend ({self.program_type.__name__} programs{about})", self.options)


BACKENDS: dict[type, Backend] = {}


def register_backend(backend: Backend) -> Backend:
    """Make ``compile_program`` send programs of ``backend.program_type`` to ``backend``."""
    BACKENDS[backend.program_type] = backend
    return backend


def backend_for(program: Any) -> Backend:
    """The backend compiling ``program``; a ``TypeError`` for a type none compiles."""
    backend = BACKENDS.get(type(program))
    if backend is None:
        raise TypeError(f"no compiler backend for a {type(program).__name__}; eqgat compiles "
                        f"{', '.join(t.__name__ for t in BACKENDS)}")
    return backend


def compile_artifact(program: Any, hidden_size: int | None = None, options: CompileOptions | None = None) -> Artifact:
    """``program`` compiled by its backend, with what a checkpoint records about it
    (``python -m eqgat compile`` saves ``artifact.info`` beside the weights)."""
    options = CompileOptions() if options is None else options
    backend = backend_for(program)
    backend.check(options)
    return backend.compile(program, hidden_size, options)


def compile_program(program: GraphProgram | DepthFirst, hidden_size: int | None = None, *,
                    options: CompileOptions | None = None, max_nodes: int | None = None, x64: bool = False,
                    scale: int | float | None = None, mechanism: str = "general", nodes: int | None = None) -> Model:
    """Compile ``program`` into an eqgat ``Model`` (the same class a learner trains).

    **Arguments:**

    - `program`: a ``GraphProgram`` or a ``DepthFirst`` program (``eqgat.lang``); its
      backend is chosen by its type (``BACKENDS``).
    - `hidden_size`: the model's hidden size (default: the program's minimal size; the
      program's slots first, every other weight zero).
    - `options`: a ``CompileOptions``, or its fields as keywords (``max_nodes``, ``x64``,
      ``scale``, ``mechanism``, ``nodes``). A backend refuses the options it does not
      take, naming them (a ``DepthFirst`` program takes ``max_nodes`` only).

    **Returns:**

    The compiled ``Model``. A graph program gives ``use_ln=False`` (layer norm would
    rescale the named slots), ``use_edge_info`` when the update adds edge inputs and,
    under ``mechanism="paper"``, the pre-attention bias B of ``nodes`` x ``nodes``; it is
    exact on graphs of at most ``max_nodes`` nodes. A ``DepthFirst`` program gives a
    four-head full-attention model (the depth-first backend, ``_dfs.py``).
    """
    opts = CompileOptions.of(options, max_nodes=max_nodes, x64=x64, scale=scale, mechanism=mechanism, nodes=nodes)
    return compile_artifact(program, hidden_size, opts).model


def _compile_graph_program(program: GraphProgram, hidden_size: int | None, options: CompileOptions) -> Artifact:
    stages = compile_stages(program, hidden_size, options=options)
    model = stages.build()
    const = stages.constants
    info = dict(max_nodes=const.max_nodes, resolution=const.resolution, layout=stages.layout.to_dict(),
                scale=const.scale, mechanism=options.mechanism,
                constants={"L": const.L, "C_pointer": const.C_pointer, "G_flag": const.G_flag})
    scale = "default constants" if const.scale is None else f"scale {const.scale:g} x the smallest constants"
    where = f"up to {const.max_nodes} nodes" if options.mechanism == "general" else \
        f"exactly {const.max_nodes} nodes (the paper's mechanism: self-default through B = k·I)"
    summary = (f"exact on graphs of {where} (resolution {const.resolution:.2g})\n"
               f"{scale}: L = {const.L:g}, c = {const.C_pointer:g}, G = {const.G_flag:g}")
    return Artifact(model, info, summary, stages.layout)


register_backend(Backend("graph-program", GraphProgram, frozenset({"max_nodes", "scale", "mechanism", "nodes", "x64"}),
                         _compile_graph_program))
