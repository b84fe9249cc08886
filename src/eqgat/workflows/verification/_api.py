"""``verify`` (a compiled model), ``verify_algorithm`` (a registered algorithm, compiled
here) and the ``python -m eqgat verify`` command's body."""

import json
import sys

import jax
import numpy as np

from ...algorithms import get_algorithm
from ...compiler import CompileOptions
from ...data import derive_seed
from ...lang import DepthFirst
from ._depth_first import _verify_depth_first
from ._graph_program import _verify_graph_program
from ._graphs import GRAPHS
from ._report import VerifyReport, format_table

def verifiable() -> list[str]:
    """The registered algorithms ``verify`` runs: a program and a reference trace."""
    from ...algorithms import names

    return names(sampled=True, compiled=True)


def verify_algorithm(algorithm: str, hidden_size: int | None = None, lengths=None, samples: int = 64,
                     seed: int = 0, *, graphs: str = "sampler", options: CompileOptions | None = None,
                     max_nodes: int | None = None, batch_size: int = 64, x64: bool = False, model=None,
                     scale: int | float | None = None, mechanism: str = "general",
                     nodes: int | None = None) -> "VerifyReport":
    """Compile the registered ``algorithm`` (or take ``model``, compiled with the same
    settings) and verify it on ``graphs`` against its reference trace; see the module
    docstring.

    **Arguments:**

    - `algorithm`: a registered algorithm with a program and a reference trace.
    - `hidden_size`: the compiled hidden size (default: the program's minimal size).
    - `lengths`: graph sizes (default 16, 64, 128; the paper's mechanism: ``nodes``);
      for ``exhaustive``, every graph on up to ``max(lengths)`` nodes (default 5
      undirected, 4 directed; the paper's mechanism: those on exactly ``nodes``).
    - `samples`, `seed`: graphs per length and distribution (``sampler``), and the seed.
    - `graphs`: ``"sampler"``, ``"families"`` or ``"exhaustive"``.
    - `options`: the ``CompileOptions`` (or the keywords ``max_nodes``, ``x64``, ``scale``,
      ``mechanism``, ``nodes``); ``x64`` needs ``jax_enable_x64``.
    - `batch_size`: graphs per batch.
    - `model`: a model compiled with these settings (default: compiled here).

    **Returns:**

    A ``VerifyReport``.
    """
    from ...compiler import backend_for

    alg = get_algorithm(algorithm)
    if not (alg.compiled and alg.sampled):
        raise ValueError(f"verify runs a compiled model against a reference trace, and {algorithm!r} has "
                         f"{'no program' if not alg.compiled else 'no reference trace'}; verifiable: "
                         f"{', '.join(verifiable())}")
    if graphs not in GRAPHS:
        raise ValueError(f"unknown --graphs {graphs!r}; use one of {', '.join(GRAPHS)}")
    options = CompileOptions.of(options, max_nodes=max_nodes, x64=x64, scale=scale, mechanism=mechanism, nodes=nodes)
    backend_for(alg.program).check(options)
    derive_seed(seed)  # a clear error for a seed out of range
    if lengths is None and graphs != "exhaustive":
        lengths = [options.nodes] if options.mechanism == "paper" else [16, 64, 128]
    lengths = list(lengths) if lengths is not None else []
    if graphs != "exhaustive" and not lengths:
        raise ValueError(f"--lengths: give the graph sizes for {graphs} graphs")
    run = _verify_depth_first if isinstance(alg.program, DepthFirst) else _verify_graph_program
    return run(alg, model, hidden_size, lengths, samples, seed, graphs, options, batch_size)


def verify(model, *, graphs: str = "sampler", lengths=None, samples: int | None = None, seed: int = 0,
           options: CompileOptions | None = None, batch_size: int = 64) -> "VerifyReport":
    """Verify a compiled ``model`` against its algorithm's reference trace, hint step by
    hint step, with the margins by which it held (module docstring).

    **Arguments:**

    - `model`: a model compiled from a registered algorithm's program (``model.algorithm``
      names it), e.g. ``eqgat.compile_algorithm(name)``.
    - `graphs`: ``"sampler"`` (dm-clrs' sampler at each length, two distributions),
      ``"families"`` (degenerate shapes and exact ties) or ``"exhaustive"`` (every graph).
    - `lengths`: graph sizes; for ``"exhaustive"``, every graph of up to ``max(lengths)``
      nodes. Default: 16, 64, 128 (up to the options' graph size; the paper's mechanism:
      its ``nb_nodes``); exhaustive: 5 nodes (4 for directed algorithms).
    - `samples`: graphs per length and distribution for ``"sampler"`` (default 64).
    - `seed`: the graphs' seed, any integer in [0, 2**63 - 1].
    - `options`: the ``CompileOptions`` the model was compiled with (default: the
      defaults, with the paper's mechanism at ``nb_nodes`` when the model has B, and
      float64 when its weights are float64).
    - `batch_size`: graphs per batch.

    **Returns:**

    A ``VerifyReport``: ``.exact``, ``.misses``, ``.near_ties``, ``.worst_gap``, its rows
    and margins.
    """
    config = model.config
    if options is None:
        x64 = any(getattr(x, "dtype", None) == np.float64 for x in jax.tree.leaves(model))
        options = (CompileOptions(mechanism="paper", nodes=config.nb_nodes, x64=x64) if config.use_pre_att_bias
                   else CompileOptions(x64=x64))
    if lengths is None and graphs != "exhaustive" and options.mechanism == "general":
        lengths = [n for n in (16, 64, 128) if n <= options.graph_size] or [options.graph_size]
    return verify_algorithm(config.algorithm, config.hidden_size, lengths, 64 if samples is None else samples, seed,
                            graphs=graphs, options=options, batch_size=batch_size, model=model)


def _checkpoint_options(path) -> CompileOptions:
    """The ``CompileOptions`` a compiled checkpoint records (defaults for anything else)."""
    from ...nn import read_meta

    info = read_meta(path).get("info", {})
    mech = info.get("mechanism", "general")
    if mech == "paper":
        return CompileOptions(mechanism="paper", nodes=info.get("max_nodes"), scale=info.get("scale"))
    return CompileOptions(max_nodes=info.get("max_nodes"), scale=info.get("scale"))


def _main_model(args) -> int:
    """``verify --checkpoint PATH`` (a saved model, verified on ``--graphs`` with the options
    it was compiled with) and ``verify --graph FILE`` (one graph, strictly)."""
    from ...compiler import compile_artifact, options_from_flags
    from ...nn import load
    from ._single import read_graph, verify_graph

    options = options_from_flags(args)
    if args.checkpoint:
        if options.given():
            raise ValueError("--max-nodes, --scale, --mechanism, --nodes and --x64 compile a program; a --checkpoint "
                             "was compiled with its own")
        model = load(args.checkpoint)
        if args.algo and args.algo != model.algorithm:
            raise ValueError(f"--algo {args.algo} but {args.checkpoint} is a {model.algorithm} model")
    else:
        model = compile_artifact(get_algorithm(args.algo).program, args.hidden_size, options).model
    if args.graph:
        name, A, source = read_graph(args.graph)
        if name and name != model.algorithm:
            raise ValueError(f"{args.graph} is a {name} graph; the model is {model.algorithm}")
        report = verify_graph(model, A, source)
        size = _checkpoint_options(args.checkpoint).graph_size if args.checkpoint else options.graph_size
        if report.n > size:
            report.notes.append(f"the graph has {report.n} nodes, more than the {size} the model was compiled for")
        if args.json:
            json.dump(report.to_json(), sys.stdout, indent=2)
            print()
        else:
            print(report)
        return 0 if report.exact else 1
    report = verify(model, graphs=args.graphs, lengths=args.lengths, samples=args.samples, seed=args.seed,
                    options=_checkpoint_options(args.checkpoint))
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2)
        print()
        return 0 if report.exact else 1
    print(f"verify {args.checkpoint} ({model.algorithm}, hidden size {report.hidden_size}), {args.graphs} graphs, "
          f"max nodes {report.max_nodes}")
    print(format_table(report))
    print("EXACT" if report.exact else "NOT EXACT: misses beyond near-ties; see the rows below 100%")
    return 0 if report.exact else 1


def main(args) -> int:
    """``python -m eqgat verify``: run ``verify_algorithm`` from parsed flags and print it
    (with ``--checkpoint`` or ``--graph``: ``_main_model``)."""
    from ...compiler import options_from_flags

    if getattr(args, "checkpoint", None) or getattr(args, "graph", None):
        return _main_model(args)
    options = options_from_flags(args)
    with jax.enable_x64(options.x64):  # float64 for this run only, no global switch
        report = verify_algorithm(args.algo, args.hidden_size, args.lengths, args.samples, args.seed,
                                  graphs=args.graphs, options=options)
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2)
        print()
        return 0 if report.exact else 1
    what = f"{args.samples} graphs per length and distribution" if args.graphs == "sampler" else f"{args.graphs} graphs"
    print(f"verify {args.algo}, hidden size {report.hidden_size}, {what}, seed {args.seed}, "
          f"max nodes {report.max_nodes}, {'float64' if options.x64 else 'float32'}"
          + ("" if options.mechanism == "general" else f", the paper's mechanism at n = {options.nodes}")
          + ("" if options.scale is None else f", scale {options.scale:g} (L = {report.logit_scale:g})"))
    print("(hint rows count hint steps, output rows count graphs; every entry must match)")
    print(format_table(report))
    if report.exact and report.near_ties:
        where = ("on graphs with ids closer than 1/max-nodes" if report.program == "DepthFirst"
                 else "near-ties in the reference's own values")
        print(f"EXACT up to resolution: {report.near_ties} miss(es), all {where}")
    elif report.exact:
        print("EXACT: every hint step and output matches the reference trace")
    else:
        print("NOT EXACT: misses beyond near-ties; see the rows below 100%")
    return 0 if report.exact else 1
