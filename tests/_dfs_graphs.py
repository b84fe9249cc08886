"""What the compiled-DFS tests share: their graphs and the probes a model gets wrong on them."""

import numpy as np

from eqgat import live_steps, matches, predict
from eqgat.data import concat, graph_arrays, to_batch


def misses(model, algorithm: str, graphs, probes=None) -> list[list[str]]:
    """Per graph, the probes (of ``probes``, default all) with a wrong live hint step or a
    wrong output (graphs of one size run as one batch)."""
    out = [None] * len(graphs)
    by_n: dict[int, list[int]] = {}
    for k, A in enumerate(graphs):
        by_n.setdefault(A.shape[0], []).append(k)
    for idx in by_n.values():
        a = concat([graph_arrays(algorithm, graphs[k]) for k in idx])
        batch = to_batch(algorithm, a)
        ok = matches(model, predict(model, batch), batch)
        live = live_steps(np.asarray(a.lengths), ok["color"].shape[1])
        for row, k in enumerate(idx):
            out[k] = sorted(name for name, v in ok.items() if (probes is None or name in probes)
                            and not np.all(v[row] | ~live[row] if v.ndim == 2 else v[row]))
    return out


def random_graphs(count: int, seed: int = 0) -> list[np.ndarray]:
    """Directed Erdős–Rényi graphs of 3, 6 and 11 nodes (three sizes: three compiles) with
    self-loops, sparse to dense."""
    rng = np.random.default_rng(seed)
    graphs = []
    for k in range(count):
        n = (3, 6, 11)[k % 3]
        p = (0.1, 0.3, 0.5, 0.9)[(k // 3) % 4]
        graphs.append((rng.random((n, n)) < p).astype(float))
    return graphs


def perturbed(model, eps: float, seed: int = 13):
    """``model`` moved along two random filter-normalised directions (``jax.random.key(seed)``)
    by ±``eps`` each: the plane's four corners, as ``((a, b), model)``."""
    import jax
    from landscape import along, random_direction

    d1, d2 = (random_direction(model, k) for k in jax.random.split(jax.random.key(seed), 2))
    for a, b in ((eps, eps), (-eps, eps), (eps, -eps), (-eps, -eps)):
        yield (a, b), along(model, [d1, d2], [a, b])


def perturbed_groups(model, eps: float, seed: int = 13, which: int = 0):
    """``model`` with one weight group (each leaf of two or more dimensions) alone moved by
    ``eps`` along random filter-normalised direction ``which`` of ``perturbed``'s two, as
    ``(leaf index, model)``."""
    import jax
    from landscape import along, random_direction

    d = random_direction(model, jax.random.split(jax.random.key(seed), 2)[which])
    leaves, treedef = jax.tree_util.tree_flatten(d)
    for k, leaf in enumerate(leaves):
        if leaf.ndim < 2 or not np.any(np.asarray(leaf)):
            continue
        only = jax.tree_util.tree_unflatten(treedef, [x if j == k else 0 * x for j, x in enumerate(leaves)])
        yield k, along(model, [only], [eps])
