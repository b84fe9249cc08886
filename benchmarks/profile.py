"""Where the time goes: a ``jax.profiler`` trace of the table-4 training step or of one
landscape grid chunk, read back with ``jax.profiler.ProfileData`` and summarised as the
XLA operations that took the time (grouped by kind, then the single largest, each with
the jax operation it came from, taken from the compiled HLO's metadata).

    python benchmarks/profile.py train [--steps 3] [--trace DIR] [--top 12]
    python benchmarks/profile.py grid  [--chunk 16] [--trace DIR] [--top 12]

The trace folder also opens in TensorBoard's or Perfetto's profile viewer.
"""

import argparse
import collections
import glob
import os
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _flops import device_name, flops, matmul_gflops  # noqa: E402


def train_case(steps: int):
    """The table-4 BFS step (hidden 128, batch 32, n = 16), compiled, and its inputs."""
    from eqgat.data import Sampler
    from eqgat import batch_steps
    from eqgat.workflows.training import TrainConfig, init_model, make_step, optimizer, stack

    cfg = TrainConfig(algo="bfs", seeds=1)
    opt = optimizer(cfg)
    step = make_step(cfg, opt)
    models = stack([init_model(cfg, 0)])
    states = eqx.filter_vmap(lambda m: opt.init(eqx.filter(m, eqx.is_inexact_array)))(models)
    sampler = Sampler("bfs", 16, 32, seed=0)
    batches = [stack([sampler.next()]) for _ in range(steps + 1)]
    state = {"m": models, "s": states}

    def run(b):
        state["m"], state["s"], loss = step(state["m"], state["s"], b)
        return loss

    executed = int(batch_steps(batches[0].length))
    work = flops(step, models, states, batches[0], executed=lambda length: min(length, executed))
    hlo = step.func.lower(models, states, batches[0], **step.keywords).compile().compiled.as_text()  # train_step
    return run, batches, work, hlo, "train step (BFS, hidden 128, batch 32, n = 16)"


def grid_case(chunk: int):
    """One vmapped chunk of the landscape grid around the minimal compiled BFS model."""
    import eqgat
    import landscape
    from eqgat import programs
    from eqgat.workflows.landscapes import landscape_batch, metrics_on
    from eqgat import batch_steps

    model = eqgat.compile_program(programs.bfs, 4)
    batch = landscape_batch("bfs")
    metrics = metrics_on(batch)
    d1, d2 = (landscape.random_direction(model, jax.random.key(k)) for k in (1, 2))
    params, static = eqx.partition(model, eqx.is_inexact_array)

    @eqx.filter_jit
    def run_chunk(cs):
        def at(c):
            return metrics(eqx.combine(jax.tree.map(lambda x, u, v: x + c[0] * u + c[1] * v, params, d1, d2), static))

        return jax.vmap(at)(cs)

    cs = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (chunk, 2)), jnp.float32)
    executed = int(batch_steps(batch.length))
    work = flops(run_chunk, cs, executed=lambda length: min(length, executed))
    hlo = run_chunk.lower(cs).compile().compiled.as_text()
    return run_chunk, [cs] * 4, work, hlo, f"grid chunk of {chunk} points (compiled BFS, hidden 4, 32 graphs of 16 nodes)"


def _origin(hlo: str, name: str, depth: int = 2) -> tuple[str, str]:
    """The shape of HLO instruction ``name`` and the jax operation it came from: its own
    metadata, else that of the computation a fusion calls, else (fused dots lose theirs)
    that of its operands, marked "<-"."""
    m = re.search(r"\n\s*(?:ROOT )?%?" + re.escape(name) + r" = (\S+) ([^\n]*)", hlo)
    if not m:
        return "?", ""
    line = m.group(2)
    op = re.search(r'op_name="([^"]*)"', line)
    if not op and (called := re.search(r"calls=%?([\w.\-]+)", line)):
        body = re.search(r"\n%?" + re.escape(called.group(1)) + r" [^\n]*\{(.*?)\n\}", hlo, re.S)
        op = re.search(r'op_name="([^"]*)"', body.group(1)) if body else None
    if op:
        return m.group(1), op.group(1)
    if depth:
        args = re.match(r"[\w\-]+\(([^)]*)\)", line)
        for operand in re.findall(r"%([\w.\-]+)", args.group(1) if args else ""):
            if origin := _origin(hlo, operand, depth - 1)[1]:
                return m.group(1), "<- " + origin
    return m.group(1), ""


def summarise(trace_dir: str, hlo: str, top: int) -> None:
    from jax.profiler import ProfileData

    path = sorted(glob.glob(os.path.join(trace_dir, "**", "*.xplane.pb"), recursive=True))[-1]
    by_name, count = collections.Counter(), collections.Counter()
    for plane in ProfileData.from_file(path).planes:
        for line in plane.lines:
            if line.name in ("python",) or "PjRt" in line.name:
                continue  # host-side wrappers, not XLA operations
            for ev in line.events:
                if ev.name.startswith(("ThunkExecutor", "cond", "while")):
                    continue  # containers: their operations are counted themselves
                by_name[ev.name] += ev.duration_ns
                count[ev.name] += 1
    total = sum(by_name.values())
    kinds = collections.Counter()
    for name, ns in by_name.items():
        kinds[re.sub(r"\.\d+$", "", name)] += ns
    print(f"XLA operation time {total / 1e6:.1f} ms in the trace, by kind:")
    for k, ns in kinds.most_common(top):
        print(f"  {100 * ns / total:5.1f}%  {ns / 1e6:8.1f} ms  {k}")
    print("largest single operations (calls, what they compute):")
    for name, ns in by_name.most_common(top):
        shape, origin = _origin(hlo, name)
        print(f"  {100 * ns / total:5.1f}%  {ns / 1e6:8.1f} ms  x{count[name]:<4d} {name} {shape}\n"
              f"{'':27s}{origin[-110:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("case", choices=["train", "grid"])
    ap.add_argument("--steps", type=int, default=3, help="training steps traced")
    ap.add_argument("--chunk", type=int, default=16, help="grid points per chunk")
    ap.add_argument("--trace", default="out/profile", help="trace folder")
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    run, inputs, work, hlo, what = train_case(args.steps) if args.case == "train" else grid_case(args.chunk)
    jax.block_until_ready(run(inputs[0]))  # compile
    t = time.perf_counter()
    for x in inputs[1:]:
        jax.block_until_ready(run(x))
    seconds = (time.perf_counter() - t) / (len(inputs) - 1)
    trace = os.path.join(args.trace, args.case)
    jax.profiler.start_trace(trace)
    for x in inputs[1:]:
        jax.block_until_ready(run(x))
    jax.profiler.stop_trace()
    peak = matmul_gflops()
    print(f"{what} on {device_name()}: {1000 * seconds:.1f} ms, {work / 1e9:.2f} GFLOP of matmuls = "
          f"{work / seconds / 1e9:.0f} GFLOP/s (a jitted 1024x1024 matmul: {peak:.0f} GFLOP/s)")
    summarise(trace, hlo, args.top)
    print(f"trace: {trace}")


if __name__ == "__main__":
    main()
