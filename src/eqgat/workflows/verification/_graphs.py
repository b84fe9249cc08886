"""The graphs a verification runs on (``--graphs``): dm-clrs' sampler in two distributions,
the graph families, or every small graph; and the loop that fills a report from them."""

import functools

import numpy as np

from ...probes import live_steps
from ...algorithms import Algorithm, get_algorithm
from ...data import TRAIN_P, Arrays, Sampler, concat, derive_seed, graph_arrays
from ...data.families import directed_families, exhaustive, exhaustive_directed, families
from ._report import Row, VerifyReport
from ._truth import check_values

DISTRIBUTIONS = {"test": dict(random_pos=False, p=(0.5,)), "train": dict(random_pos=True, p=TRAIN_P)}
GRAPHS = ("sampler", "families", "exhaustive")
#: Default largest graph of ``--graphs exhaustive``: undirected (BFS, Bellman-Ford; every
#: source) and directed (``dfs_light``: 4,165 graphs).
EXHAUSTIVE_NODES = 5
EXHAUSTIVE_DIRECTED_NODES = 4
#: The largest ``exhaustive`` size eqgat enumerates: 6 undirected nodes (32,768 graphs, each
#: from every source), 4 directed (7 directed nodes would be 2**42 graphs).
EXHAUSTIVE_LIMIT = {False: 6, True: 4}


def _count(rows: dict, groups: list[str], n: int, ok: dict, nt_upto: np.ndarray, lengths: np.ndarray):
    live = live_steps(lengths, nt_upto.shape[1])
    for name, m in ok.items():
        for g in sorted(set(groups)):
            sel = np.array([x == g for x in groups])
            row = rows.setdefault((n, g, name), Row(n, g, name, 0, 0))
            if m.ndim == 2:
                good, lv, nt = m[sel], live[sel], nt_upto[sel]
                row.correct += int(good.sum())
                row.total += int(lv.sum())
                row.near_tie += int((lv & ~good & nt).sum())
            else:
                good, nt = m[sel], nt_upto[sel].any(-1)
                row.correct += int(good.sum())
                row.total += int(good.size)
                row.near_tie += int((~good & nt).sum())


@functools.lru_cache(maxsize=4)
def exhaustive_arrays(algorithm: str, max_n: int | None = None) -> tuple[tuple[int, Arrays], ...]:
    """The reference traces of every graph on up to ``max_n`` nodes (``eqgat.data.families``:
    ``exhaustive``, from every source, or for a directed algorithm
    ``exhaustive_directed``; default sizes ``EXHAUSTIVE_NODES`` and
    ``EXHAUSTIVE_DIRECTED_NODES``), one ``Arrays`` per size (computed once per process)."""
    alg = get_algorithm(algorithm)
    if alg.directed:
        cases = exhaustive_directed(EXHAUSTIVE_DIRECTED_NODES if max_n is None else max_n)
    else:
        cases = exhaustive(EXHAUSTIVE_NODES if max_n is None else max_n)
    by_n: dict[int, list] = {}
    for c in cases:
        by_n.setdefault(c.n, []).append(graph_arrays(algorithm, c.A, source=c.source))
    return tuple((n, concat(arrays)) for n, arrays in by_n.items())


def _family_cases(alg: Algorithm, n: int, seed: int, bound: float):
    """The graph families of size n for ``alg``'s kind of graph."""
    if alg.directed:
        return directed_families(n, seed=derive_seed(seed, n))
    return families(n, seed=derive_seed(seed, n), value_bound=bound)


def _cases(alg: Algorithm, graphs: str, lengths, samples: int, seed: int, batch_size: int, check=None,
           exhaustive_n: int | None = None):
    """Yield ``(n, groups, Arrays)``: batches of one graph size with a group name per graph.
    ``check(arrays, where)`` sees every batch first (a value-bound check)."""
    check = check or (lambda a, where: None)
    if graphs == "sampler":
        for n in lengths:
            for d_i, (dist, kw) in enumerate(DISTRIBUTIONS.items()):
                sampler = Sampler(alg.name, n, min(batch_size, samples), seed=derive_seed(seed, n, d_i),
                                  warm_up=False, **kw)
                done = 0
                while done < samples:
                    a = sampler.next_arrays()
                    k = min(samples - done, a.lengths.shape[0])
                    a = Arrays(*({key: v[:k] for key, v in d.items()} for d in a[:3]), a.lengths[:k])
                    check(a, f"sampled graphs of {n} nodes")
                    done += k
                    yield n, [dist] * k, a
    elif graphs == "families":
        for n in lengths:
            cases = _family_cases(alg, n, seed, getattr(check, "bound", 16.0))
            arrays = [graph_arrays(alg.name, c.A, source=c.source) for c in cases]
            for c, a in zip(cases, arrays, strict=True):
                check(a, f"family {c.family!r} at n={n}")
            yield n, [c.family for c in cases], concat(arrays)
    elif graphs == "exhaustive":
        for n, a in exhaustive_arrays(alg.name, exhaustive_n):
            yield n, ["exhaustive"] * a.lengths.shape[0], a
    else:
        raise ValueError(f"unknown --graphs {graphs!r}; use one of {', '.join(GRAPHS)}")


class _ValueCheck:
    """``check_values`` against ``bound`` as a ``_cases`` check (its ``bound`` also sizes
    the families' weights)."""

    def __init__(self, plan, bound: float):
        self.plan, self.bound = plan, bound

    def __call__(self, a: Arrays, where: str) -> None:
        check_values(self.plan, a, self.bound, where)


def _sizes(alg: Algorithm, graphs: str, lengths, size: int) -> list[int]:
    """The graph sizes a run covers (for ``exhaustive``: its largest), checked against the
    model's ``size``; a ``ValueError`` naming the bad ones."""
    default_exhaustive = EXHAUSTIVE_DIRECTED_NODES if alg.directed else EXHAUSTIVE_NODES
    if graphs == "exhaustive":
        sizes = [max(lengths) if lengths else default_exhaustive]
    else:
        sizes = list(lengths)
    if not sizes or any(not isinstance(n, (int, np.integer)) for n in sizes):
        raise ValueError(f"--lengths must be graph sizes (integers), got {lengths!r}")
    if too_big := [n for n in sizes if n > size]:
        raise ValueError(f"graphs of {too_big} nodes are larger than --max-nodes {size}: the model's "
                         "tie-breaks are sized for at most --max-nodes nodes")
    if graphs != "exhaustive" and (small := [n for n in sizes if n < 2]):
        raise ValueError(f"--lengths must be >= 2 for {graphs} graphs, got {small}")
    if graphs == "exhaustive" and not 1 <= sizes[0] <= EXHAUSTIVE_LIMIT[alg.directed]:
        kind = "directed" if alg.directed else "undirected"
        raise ValueError(f"--lengths {sizes[0]}: exhaustive {kind} graphs are enumerated on 1 to "
                         f"{EXHAUSTIVE_LIMIT[alg.directed]} nodes (every graph: the count doubles with each edge)")
    return sizes


def _run(report: "VerifyReport", batches, per_batch) -> "VerifyReport":
    """Fill ``report``'s rows and margins from ``per_batch(n, groups, arrays) -> [(groups
    part, ok, nt_upto, margins, lengths)]`` over ``batches`` of ``(n, groups, arrays)``."""
    rows: dict = {}
    order: dict[str, int] = {}  # groups in the order they first appear
    for n, groups, a in batches:
        for g in groups:
            order.setdefault(g, len(order))
        for part, ok, nt_upto, m, lengths in per_batch(n, groups, a):
            report.margins.update(m)
            _count(rows, part, n, ok, nt_upto, lengths)
    report.rows = [rows[k] for k in sorted(rows, key=lambda k: (k[0], order[k[1]], k[2]))]
    return report
