"""The paper's and the analyses' commands: ``reproduce``, ``locality`` and ``import-clrs``."""

from .._argtypes import ints as _ints
from .._argtypes import natural as _natural
from .._argtypes import positive as _positive
from .flags import algo_choices as _choices


def add_reproduce_command(sub) -> None:
    p = sub.add_parser("reproduce", help="a table or figure of the paper, with eqgat's numbers beside the paper's")
    p.add_argument("names", nargs="*", metavar="NAME", help="entries (table2, table5, figure1, ...; 'all': every one)")
    p.add_argument("--list", action="store_true", help="list the entries, their experiments and the paper's numbers")
    p.add_argument("--profile", choices=["smoke", "cpu", "paper"], default="cpu",
                   help="smoke: seconds (CI); cpu: ~1-2 h per entry on 2 cores; paper: the paper's settings")
    p.add_argument("--out", default=None, help="output folder (default out/reproduce/<profile>); runs are shared "
                                               "between entries and resumed per seed")
    p.add_argument("--devices", type=_positive, default=None, help="local devices the seed axis is spread over")
    p.add_argument("--workers", type=_natural, default=0,
                   help="processes drawing the training batches ahead of the steps (0: this one; the same batches)")
    p.add_argument("--seeds", type=_positive, default=None,
                   help="train only the profile's first N seeds per row (resumable: a later run adds the rest)")
    p.add_argument("--parallel", type=_positive, default=None,
                   help="seeds trained at once in one vmapped program (default: the profile's; results do not change)")
    p.add_argument("--report-only", action="store_true",
                   help="train nothing: write NAME.md / NAME.json from the seeds already finished in --out")
    from .flags import add_checkpoint_flags

    add_checkpoint_flags(p)
    p.set_defaults(fn=_cmd_reproduce)


def _cmd_reproduce(args) -> int:
    from ..workflows.reproduce import ENTRIES, default_out, get_entry, listing, reproduce

    if args.list:
        print(listing())
        return 0
    if not args.names:
        raise ValueError("name an entry (or 'all'); `reproduce --list` lists them")
    names = list(ENTRIES) if args.names == ["all"] else args.names
    for name in names:
        get_entry(name)  # every name checked before anything runs
    for name in names:
        res = reproduce(name, args.profile, args.out, devices=args.devices, workers=args.workers, seeds=args.seeds,
                        parallel=args.parallel, report_only=args.report_only, checkpoint_every=args.checkpoint_every,
                        checkpoint_minutes=args.checkpoint_minutes)
        print(res["title"])
        for r in res["rows"]:
            e = r["eqgat"]
            flag = "" if r["differs"] is None else ("  (differs)" if r["differs"] else "")
            ran = f"  [{e['n']} seeds, {'/'.join(map(str, e['steps']))} steps, {e['seconds']:.0f} s]" if e else ""
            print(f"  {r['label']}: eqgat {r['eqgat_text']}  paper {r['paper_text']}{ran}{flag}")
        if res["figure"]:
            for n in res["figure"]["numbers"]:
                print(f"  {n['label']}: {n['value']}")
    out = args.out or default_out(args.profile)
    print(f"results in {out}/ (NAME.md, NAME.json; runs/ holds every seed)")
    return 0


def add_locality_command(sub) -> None:
    p = sub.add_parser("locality", help="hints that no one-GATv2-step-per-hint model can decide (eqgat.workflows.locality)")
    p.add_argument("--algo", required=True, choices=_choices(sampled=True))
    p.add_argument("--max-nodes", type=_positive, default=3,
                   help="every directed graph up to this size (4: 4,096 graphs, minutes for mask_one hints)")
    p.add_argument("--random", type=_natural, default=0, help="random graphs per size of --random-nodes, too")
    p.add_argument("--random-nodes", type=_ints, default=[5, 6, 8])
    p.add_argument("--seed", type=_natural, default=0, help="seed of the random graphs")
    p.add_argument("--hops", type=_positive, default=None,
                   help="message-passing steps per hint (default: unbounded, the node's whole component)")
    p.add_argument("--full", action="store_true",
                   help="attention over all nodes (dm-clrs' gatv2_full), not only graph and pointer edges; needs --hops")
    p.set_defaults(fn=_cmd_locality)


def _cmd_locality(args) -> int:
    """Per hint probe: an obstruction (two instances; exit 1) or none among the graphs searched."""
    from ..workflows import locality
    from ..probes import Location, Stage, Type
    from ..algorithms import get_spec

    def graphs():
        return locality.search_graphs(args.algo, args.max_nodes, args.random, args.random_nodes, args.seed)

    count = sum(1 for _ in graphs())
    found = False
    for p in get_spec(args.algo):
        if p.stage != Stage.HINT or p.location != Location.NODE:
            continue
        gs = graphs()
        if p.type in (Type.MASK_ONE, Type.POINTER):
            cycle = locality.choice_cycle(args.algo, gs, p.name, hops=args.hops, full=args.full)
            if cycle:
                found = True
                print(f"{p.name} ({p.type.name.lower()}): a cycle of {len(cycle)} 'must outscore' links, "
                      "so no model decides it:")
                for win, lose in cycle:
                    print(f"    the target ({win}) must outscore ({lose})")
                continue
        else:
            hit = next(locality.node_conflicts(args.algo, gs, p.name, hops=args.hops, full=args.full), None)
            if hit:
                found = True
                a, b, va, vb = hit
                print(f"{p.name}: node {a.node} sees the same at hint {a.t} of ({a}) and hint {b.t} of ({b}), "
                      f"but must predict {va} there and {vb} here")
                continue
        print(f"{p.name}: no obstruction among {count} graphs"
              + ("" if args.hops is None else f" ({args.hops} message-passing step(s) per hint"
                                              f"{', attention over all nodes' if args.full else ''})"))
    return 1 if found else 0


def add_import_command(sub) -> None:
    from ..nn import add_flags

    p = sub.add_parser("import-clrs", help="convert a dm-clrs / fork save_model pickle into an eqgat checkpoint")
    p.add_argument("path", help="the pickle BaselineModel.save_model wrote (dm-clrs 2.0.3 or the paper's fork)")
    p.add_argument("--algo", required=True, choices=_choices(sampled=True))
    add_flags(p)
    p.add_argument("--nb-nodes", type=_positive, default=None, help="n of the pre-attention bias B (with --use-pre-att-bias)")
    p.add_argument("--out", required=True, help="the eqgat checkpoint to write")
    p.set_defaults(fn=_cmd_import)


def _cmd_import(args) -> int:
    from ..nn import save
    from ..nn import from_flags
    from ..workflows.interop import load_clrs_checkpoint

    if args.hidden_size is None:
        raise ValueError("give --hidden-size: a save_model pickle does not store the architecture")
    config = from_flags(args.algo, args, nb_nodes=args.nb_nodes)
    model = load_clrs_checkpoint(args.path, config=config)
    path = save(args.out, model, source="imported", pickle=str(args.path))
    print(f"imported {args.path} ({config.algorithm}, hidden {config.hidden_size}, {config.nb_heads} head(s), "
          f"edge info {config.use_edge_info}, pre-attention bias {config.use_pre_att_bias}) -> {path}")
    return 0
