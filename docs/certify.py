"""The certificates of the compiled graph programs at N = 16, 64 and 128 (each compiled
with ``--max-nodes N``), for ``docs/concepts/certify.md``: every obligation's configuration
count and worst slack, the precondition, the time; and four models certify refuses (three
deliberately broken ones and Bellman-Ford compiled for 16 nodes, certified for 128) with
their counterexamples, each rerun by ``verify_graph``. Writes
``docs/certify/certificates.json`` and ``docs/certify/refused.json`` and prints the page's
tables.

    python docs/certify.py
"""

import json
import math
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


import eqgat  # noqa: E402
from eqgat.algorithms import get_algorithm  # noqa: E402
from eqgat.compiler import CompileOptions, compile_artifact  # noqa: E402
from eqgat.workflows.certify import flip_smallest_omega, small_gate, without_parent_bonus  # noqa: E402
from eqgat.workflows.verification import verify_graph  # noqa: E402

OUT = Path(__file__).parent / "certify"
ALGORITHMS = ("bfs", "bellman_ford")
SIZES = (16, 64, 128)


def main():
    OUT.mkdir(exist_ok=True)
    records = []
    for algo in ALGORITHMS:
        for N in SIZES:
            art = compile_artifact(get_algorithm(algo).program, None, CompileOptions(max_nodes=N))
            cert = eqgat.certify(art.model, max_nodes=N, layout=art.layout, counterexample=False)
            rec = cert.to_json()
            rec["seconds"] = round(rec["seconds"], 1)
            records.append(rec)
            print(f"{algo} N={N}: {'CERTIFIED' if cert.certified else 'NOT CERTIFIED'} in {cert.seconds:.1f} s")
    (OUT / "certificates.json").write_text(json.dumps(records, indent=1))
    refused = [refuse(*case) for case in REFUSED]
    (OUT / "refused.json").write_text(json.dumps(refused, indent=1))
    print()
    print(tables(records))
    for r in refused:
        print(f"- {r['model']}: {r['violated']} fails (worst slack {r['worst']:.4g} {r['unit']}); counterexample: "
              f"{r['counterexample']}; verify_graph: {'exact' if r['verify_exact'] else 'NOT exact: ' + r['verify_miss']}"
              f" (the intact compiled model: {'exact' if r['intact_exact'] else 'not exact'}); {r['seconds']:.0f} s")


def _compiled(algo, N):
    art = compile_artifact(get_algorithm(algo).program, None, CompileOptions(max_nodes=N))
    return art.model, art.layout


def flip(model, layout):
    return flip_smallest_omega(model)


#: (name, algorithm, compiled for, certified for, change)
REFUSED = [("BFS, smallest ω flipped", "bfs", 16, 16, flip),
           ("Bellman-Ford, parent bonus removed", "bellman_ford", 16, 16, without_parent_bonus),
           ("BFS, pointer take gate M = 0.5", "bfs", 16, 16, small_gate),
           ("Bellman-Ford compiled for 16, certified for 128", "bellman_ford", 16, 128, None)]


def refuse(name, algo, compiled_for, N, change):
    model, layout = _compiled(algo, compiled_for)
    broken = model if change is None else change(model, layout)
    cert = eqgat.certify(broken, max_nodes=N, layout=layout, search_seconds=180)
    cx = cert.counterexample
    v = cert.violated
    out = {"model": name, "algorithm": algo, "compiled_for": compiled_for, "certified_for": N,
           "certified": cert.certified, "violated": v.name if v else None, "worst": v.worst if v else None,
           "unit": v.unit if v else "", "where": v.where if v else "", "seconds": round(cert.seconds, 1),
           "counterexample": cx.describe() if cx else None, "graph": cx.to_json() if cx else None}
    if cx is not None:
        r = verify_graph(broken, cx.A, cx.source)
        out.update(verify_exact=r.exact, verify_miss=r.miss, intact_exact=verify_graph(model, cx.A, cx.source).exact)
    print(f"{name}: {'CERTIFIED' if cert.certified else 'NOT CERTIFIED'} ({cert.seconds:.0f} s)")
    return out


def _num(x) -> str:
    return "-" if x is None else f"{x:.4g}"


def tables(records) -> str:
    """The page's Markdown: per algorithm, one row per obligation, one column pair
    (configurations, worst slack) per N; then the preconditions."""
    out = []
    for algo in ALGORITHMS:
        recs = [r for r in records if r["algorithm"] == algo]
        head = "| obligation | unit | " + " | ".join(f"N = {r['max_nodes']}: configs | worst slack" for r in recs) + " |"
        status = ", ".join(f"{'CERTIFIED' if r['certified'] else 'NOT CERTIFIED'} at N = {r['max_nodes']} "
                           f"in {r['seconds']:.1f} s" for r in recs)
        out += [f"**{algo}**: {status}", "", head, "|" + "---|" * (2 + 2 * len(recs))]
        for k, ob in enumerate(recs[0]["obligations"]):
            cells = []
            for r in recs:
                o = r["obligations"][k]
                cells += [str(o["configurations"]), _num(o["worst_slack"])]
            out.append(f"| {ob['name']} | {ob['unit']} | " + " | ".join(cells) + " |")
        out.append("")
        for r in recs:
            p = r["precondition"]
            extra = "" if p["grid"] is None else (f"; weights multiples of 2^{round(math.log2(p['grid']))} = "
                                                  f"{p['grid']:g} (the near-tie resolution), every distance below "
                                                  f"{p['value_bound']:g} (the value bound)")
            out.append(f"- N = {r['max_nodes']}: ids ≥ {p['id_spacing']:.6g} apart, at most {p['steps']} steps{extra}.")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    main()
