"""The orchestrator: stages 1-5 in order, writing every weight of a zero ``Model``."""

from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp

from .._config import ModelConfig
from .._model import Model
from ..lang import DepthFirst, GraphProgram
from ._analyse import Plan, analyse
from ._constants import DEFAULT_MAX_NODES, Constants, constants
from ._layout import Layout, layout
from ._probes import compile_decoders, compile_encoders
from ._paper import compile_processor_paper
from ._processor import _write_processor, _zeros_like, compile_processor


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
        skeleton = eqx.filter_eval_shape(lambda: Model(config, key=jax.random.key(0)))
        model = _zeros_like(skeleton, dtype)
        if paper:
            weights, B = compile_processor_paper(plan, lay, const)
            model = _write_processor(model, weights, plan, dtype, B)
        else:
            model = _write_processor(model, compile_processor(plan, lay, const), plan, dtype)
        model = compile_encoders(plan, lay, model, dtype)
        return compile_decoders(plan, lay, model, const, dtype)


def compile_stages(program: GraphProgram, hidden_size: int | None = None, *,
                   max_nodes: int | None = None, x64: bool = False, scale: int | float | None = None,
                   mechanism: str = "general", nodes: int | None = None) -> Compiled:
    """Stages 1-3 of ``compile_program`` (no weights yet; ``.build()`` writes them)."""
    max_nodes = graph_size(mechanism, nodes, max_nodes)
    plan = analyse(program)
    return Compiled(plan, layout(plan, hidden_size, mechanism),
                    constants(plan, max_nodes=max_nodes, x64=x64, scale=scale, mechanism=mechanism))


def graph_size(mechanism: str, nodes: int | None, max_nodes: int | None) -> int:
    """The graph size constants are derived for: ``nodes`` for the paper's mechanism
    (B is nodes × nodes, so the model runs at that size only), else ``max_nodes``
    (default ``DEFAULT_MAX_NODES``). Each mechanism refuses the other's size flag."""
    if mechanism == "paper":
        if nodes is None:
            raise ValueError("the paper's mechanism needs --nodes N: its pre-attention bias B is N x N, so the "
                             "model runs on graphs of exactly N nodes")
        if max_nodes is not None:
            raise ValueError("--max-nodes sizes the general mechanism's tie-breaks; the paper's mechanism runs on "
                             "graphs of exactly --nodes N (drop --max-nodes)")
        if not isinstance(nodes, int) or nodes < 1:
            raise ValueError(f"--nodes must be a positive integer, got {nodes!r}")
        return nodes
    if nodes is not None:
        raise ValueError("--nodes fixes the graph size of the paper's mechanism (--mechanism paper); the general "
                         "mechanism runs at every size up to --max-nodes")
    if max_nodes is None:
        return DEFAULT_MAX_NODES
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"--max-nodes must be a positive integer, got {max_nodes!r}")
    return max_nodes


def compile_program(program: GraphProgram | DepthFirst, hidden_size: int | None = None, *,
                    max_nodes: int | None = None, x64: bool = False, scale: int | float | None = None,
                    mechanism: str = "general", nodes: int | None = None) -> Model:
    """Compile ``program`` into an eqgat ``Model`` of hidden size ``hidden_size`` (default:
    the program's minimal size; the program's slots first, every other weight zero),
    exact on graphs of at most ``max_nodes`` nodes. Switches: ``use_ln=False`` (layer norm
    would rescale the named slots), ``use_edge_info`` when the update adds edge inputs, no
    pre-attention bias. ``x64`` writes float64 weights with float64's finer constants
    (needs ``jax_enable_x64``). ``scale`` S >= 1 sets the selection and decoder constants
    to S times the smallest the bounds allow (``eqgat.compiler.constants``).
    ``mechanism="paper"`` with ``nodes=N`` compiles the paper's mechanism instead (a node
    with nothing to update attends to itself through B = k·I; ``eqgat.compiler._paper``):
    the model has ``use_pre_att_bias`` and runs on graphs of exactly N nodes.

    A ``DepthFirst`` program (``eqgat.lang``) goes to its own construction
    (``eqgat.compiler._dfs.compile_depth_first``: full attention, four heads, float32,
    its own constants)."""
    if isinstance(program, DepthFirst):
        from ._dfs import compile_depth_first

        if x64 or scale is not None or mechanism != "general" or nodes is not None:
            raise ValueError("a DepthFirst program compiles in float32 with its own constants and mechanism: "
                             "drop x64, scale, mechanism and nodes")
        return compile_depth_first(program, hidden_size, max_nodes=max_nodes)
    return compile_stages(program, hidden_size, max_nodes=max_nodes, x64=x64, scale=scale, mechanism=mechanism,
                          nodes=nodes).build()
