"""A user's own algorithm, registered from this file with no edit to ``src/``: a renamed
Bellman-Ford with probe names and a NumPy reference of its own, taken through the whole
research loop by public names only (compile, verify, train, score, a landscape)."""

import jax
import numpy as np
import pytest

import eqgat
from eqgat import Algorithm, Location, Probe, Stage, Type
from eqgat.lang import Flag, GraphProgram, Minimum, Pointer, Scalar, edge, other, self_

NAME = "shortest_paths"
_I, _O, _H, _N, _E = Stage.INPUT, Stage.OUTPUT, Stage.HINT, Location.NODE, Location.EDGE

SPEC = (
    Probe("pos", _I, _N, Type.SCALAR),
    Probe("start", _I, _N, Type.MASK_ONE),
    Probe("w", _I, _E, Type.SCALAR),
    Probe("adj", _I, _E, Type.MASK),
    Probe("parent", _O, _N, Type.POINTER),
    Probe("parent_h", _H, _N, Type.POINTER),
    Probe("dist_h", _H, _N, Type.SCALAR),
    Probe("seen_h", _H, _N, Type.MASK),
)


def reference(w: np.ndarray, start: int):
    """Rounds of relaxation from the start-of-round distances; a reached node only moves
    for a strictly shorter path (written here, not taken from eqgat)."""
    n = w.shape[0]
    dist, parent, seen = np.zeros(n), np.arange(n), np.zeros(n)
    seen[start] = 1
    hints = []
    while True:
        hints.append({"parent_h": parent.copy(), "dist_h": dist.copy(), "seen_h": seen.copy()})
        old_dist, old_seen = dist.copy(), seen.copy()
        for u in range(n):
            for v in range(n):
                if old_seen[u] and w[u, v] != 0 and (not seen[v] or old_dist[u] + w[u, v] < dist[v]):
                    dist[v], parent[v], seen[v] = old_dist[u] + w[u, v], u, 1
        if np.array_equal(dist, old_dist):
            inputs = {"pos": np.arange(n) / n, "start": np.eye(n)[start], "w": w.astype(np.float64),
                      "adj": ((w + np.eye(n)) != 0).astype(np.float64)}
            return inputs, hints, {"parent": parent.copy()}


PROGRAM = GraphProgram(
    algorithm=NAME,
    hidden={"seen": Flag(start="start"), "dist": Scalar(), "parent": Pointer()},
    select=Minimum(expr=other.dist + edge.w, mask=other.seen, incumbent=self_.seen),
    update={"seen": other.seen, "dist": other.dist + edge.w, "parent": other.idx},
    probes={"seen_h": "seen", "dist_h": "dist", "parent_h": "parent", "parent": "parent"},
)

def trace_bound(n: int) -> int:
    return n + 1


ALGORITHM = eqgat.register_algorithm(Algorithm(
    NAME, SPEC, reference, directed=False, weighted=True, has_source=True, program=PROGRAM,
    trace_bound=trace_bound, doc="a renamed Bellman-Ford, registered by a test"))


def test_registered_everywhere():
    assert ALGORITHM in eqgat.algorithms()
    assert ALGORITHM in eqgat.algorithms(sampled=True, compiled=True)
    assert eqgat.get_algorithm(NAME) is ALGORITHM and eqgat.get_spec(NAME) == SPEC
    assert eqgat.register_algorithm(ALGORITHM) is ALGORITHM  # the same record again: a no-op
    from eqgat.cli import build_parser

    for argv in (["compile", "--out", "x"], ["verify"], ["train"], ["show", "--out", "x"]):
        args = build_parser().parse_args([argv[0], "--algo", NAME, *argv[1:]])
        assert args.algo == NAME


def test_compiled_verified_exact_on_families_and_every_small_graph():
    model = eqgat.compile_algorithm(NAME)
    assert model.algorithm == NAME and model.config.use_edge_info
    for graphs, lengths in (("families", [2, 5, 9]), ("exhaustive", [4])):
        report = eqgat.verify(model, graphs=graphs, lengths=lengths)
        assert isinstance(report, eqgat.VerifyReport)
        assert report.exact and report.misses == 0, graphs
        assert report.worst_gap > 0 and np.isfinite(report.worst_gap)
        probes = {r.probe for r in report.rows}
        assert probes == {"parent", "parent_h", "dist_h", "seen_h"}
        if graphs == "exhaustive":
            # every undirected graph on 1-4 nodes from every source: 1 + 2·2 + 8·3 + 64·4 graphs
            outputs = [r for r in report.rows if r.probe == "parent"]
            assert sum(r.total for r in outputs) == 1 + 4 + 24 + 256


def test_verify_fails_a_broken_model_of_the_new_algorithm():
    model = eqgat.compile_algorithm(NAME)
    broken = jax.tree.map(lambda x: x, model)
    import equinox as eqx

    broken = eqx.tree_at(lambda m: m.processor.omega, broken, -model.processor.omega)  # prefer the worst sender
    report = eqgat.verify(broken, graphs="families", lengths=[5])
    assert not report.exact and report.misses > 0


def test_sampled_scored_and_trained(tmp_path):
    batch = eqgat.sample(NAME, 8, 4, seed=0)
    assert isinstance(batch, eqgat.Batch) and batch.algorithm == NAME
    assert set(batch.hints) == {"parent_h", "dist_h", "seen_h"} and set(batch.inputs) == {"pos", "start", "w", "adj"}
    # the sampler draws weighted undirected graphs (the record says so) and traces them with our reference
    w = np.asarray(batch.inputs["w"][0], dtype=np.float64)
    assert np.allclose(w, w.T) and (w[w != 0] > 0.03).all()
    compiled = eqgat.compile_algorithm(NAME)
    assert eqgat.score(compiled, batch) == 1.0
    fresh = eqgat.Model(eqgat.ModelConfig(NAME, 16), key=jax.random.key(0))
    assert 0.0 <= eqgat.score(fresh, batch) < 1.0

    cfg = eqgat.TrainConfig(algo=NAME, model=eqgat.ModelConfig(NAME, 16), train_lengths=(5,), steps=2,
                            batch_size=2, val_every=0, test_length=5)
    result = eqgat.train(cfg, out=tmp_path / "run", progress=False)
    assert result.losses.shape == (2, 1) and np.isfinite(result.losses).all()
    trained = eqgat.load(tmp_path / "run" / f"seed{result.seeds[0]}.eqx")
    assert trained.algorithm == NAME
    score = eqgat.score(trained, eqgat.sample(NAME, 5, 32, seed=3))
    assert result.test_scores is not None and 0.0 <= score <= 1.0


def test_worker_processes_draw_the_new_algorithm(tmp_path):
    # spawned workers receive the record (module-level functions pickle by reference) and
    # draw the same batches as this process
    from eqgat.data.batches import SeedBatches

    here, there = (list(SeedBatches(NAME, [0, 1], [5], 2, batch_size=2, workers=w)) for w in (0, 1))
    for a, b in zip(here, there, strict=True):
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
            np.testing.assert_array_equal(x, y)
    eqgat.register_algorithm(ALGORITHM.replace(name="lambda_copy", program=None, trace_bound=lambda n: n + 1))
    with pytest.raises(ValueError, match="'lambda_copy' in other processes.*no lambdas"):
        SeedBatches("lambda_copy", [0], [5], 1, batch_size=2, workers=1)


def test_landscape_surface(tmp_path):
    from eqgat.workflows.landscapes import surface_around

    model = eqgat.compile_algorithm(NAME)
    grids = surface_around(model, "compiled", NAME, grid=(3, 3), span=("general", (-1e-3, 1e-3)),
                           out=tmp_path / "s.npz", progress=False)
    loss, score = np.asarray(grids["loss"]), np.asarray(grids["score"])
    assert loss.shape == (3, 3) and np.isfinite(loss).all()
    assert score[1, 1] == 1.0  # the centre is the compiled model: exact
    import landscape

    saved = landscape.load(tmp_path / "s.npz")
    assert saved.meta["algorithm"] == NAME and np.array_equal(saved.metrics["loss"], loss)


def test_conflicting_registration_names_what_differs():
    with pytest.raises(ValueError, match="already registered with another reference") as err:
        eqgat.register_algorithm(ALGORITHM.replace(reference=lambda A, s: reference(A, s)))
    assert NAME in str(err.value)
    with pytest.raises(ValueError, match="spec, trace_bound"):
        eqgat.register_algorithm(ALGORITHM.replace(spec=SPEC[:-1], trace_bound=lambda n: 2 * n))
    assert eqgat.get_algorithm(NAME) is ALGORITHM  # refused: nothing changed
    with pytest.raises(ValueError, match="already registered with other probes"):
        eqgat.register_spec("bfs", SPEC)


def test_a_bad_record_lists_every_problem():
    with pytest.raises(ValueError) as err:
        Algorithm("broken", (Probe("x", _I, _E, Type.SCALAR), Probe("x", _H, _N, "vector")), program=PROGRAM)
    msg = str(err.value)
    for part in ("named twice: ['x']", "no output probe", "no node input", "unknown type 'vector'",
                 f"program is written for {NAME!r}, not 'broken'"):
        assert part in msg, part


def test_time_buckets_follow_the_record():
    assert eqgat.max_trace_length(NAME, 7) == 8 and ALGORITHM.time_bucket(7, 3) == 8
    unbounded = Algorithm("unbounded_copy", SPEC, reference, weighted=True, has_source=True)
    assert unbounded.max_trace_length(7) is None
    assert [unbounded.time_bucket(7, T) for T in (1, 8, 9, 100)] == [8, 8, 16, 128]  # never below T


def test_unknown_and_unsampled_algorithms_are_clear_errors():
    with pytest.raises(ValueError, match="unknown algorithm 'nope'.*register_algorithm"):
        eqgat.sample("nope", 5, seed=0)
    with pytest.raises(ValueError, match="'labelprop' has no reference trace"):
        eqgat.sample("labelprop", 5, seed=0)
    with pytest.raises(ValueError, match="'bfs_seq' has no program"):
        eqgat.compile_algorithm("bfs_seq")
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 2\\*\\*32 - 1\\]"):
        eqgat.sample(NAME, 5, seed=2**40)
    batch = eqgat.sample("bfs", 5, 2, seed=0)
    with pytest.raises(ValueError, match="the batch is of 'bfs' graphs, the model computes 'shortest_paths'"):
        eqgat.score(eqgat.compile_algorithm(NAME), batch)
