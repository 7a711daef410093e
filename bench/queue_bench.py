"""Rate-next rules against random choices on many fresh libraries and simulated users.

    nice python bench/queue_bench.py run --source tiny-clip --seeds 400-419 --rules random,random1,random2,cover,queue
    nice python bench/queue_bench.py run --source clusters --seeds 500-519 --rules random,random1,random2,cover,queue
    python bench/queue_bench.py summary bench/out/queue-*.jsonl [--vs random]

A run is one library (bench/queue_worlds.py), one simulated user and one held-out split (1,000
images never rated); every rule in the run sees the same library, ratings and split, so rules
are compared in pairs. Each rule hands out BATCH images at a time, as a user working the queue;
after every batch the ridge model (`train`'s head on these vectors, alpha by leave-one-out) is
refitted, its alpha passed to the rule, and at each count of GRID the held-out Spearman rho and
the top-decile precision are recorded: of the 10 % of held-out images the model rates highest,
the share the user loves most (their top taste level), out of the most that could be.

`summary` prints, per target, the ratings each rule needed (median, IQR), the ratio of medians
against the baseline rule, how many runs needed fewer / the same / more, the worst run's ratio,
the share of runs more than 10 % worse, and paired tests (sign test, Wilcoxon signed-rank on
log ratings-needed; a run where neither reached the target is left out, one where only one did
counts the other as needing more than the last count). "Needed" is the fewest ratings at
which the target is reached and still held at the next count; the random baseline of a run is
the median over its draws (rules random, random1, random2, ...: different random orders).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import queue_strategies as qs  # noqa: E402
import queue_worlds as qw  # noqa: E402

from anagnorisis_tui.core.evaluator import metrics as eval_metrics  # noqa: E402
from anagnorisis_tui.core.evaluator import regressors as eval_models  # noqa: E402

BATCH = 10
GRID = (*range(10, 201, 10), 250, 300)
RHO_TARGETS = (0.30, 0.35, 0.40)
PREC_TARGETS = (0.5, 0.7)
N_TEST = 1000


def top_decile_precision(taste: np.ndarray, pred: np.ndarray) -> float:
    loved = taste >= taste.max()
    k = max(1, len(taste) // 10)
    best = min(k, int(loved.sum()))
    if best == 0:
        return float("nan")
    return float(loved[np.argsort(-pred, kind="stable")[:k]].sum()) / best


def run_rule(world: qw.World, rule: str, pool: np.ndarray, test: np.ndarray, rep: int) -> dict:
    ctx = qs.Context(
        x=world.x[pool],
        rated=[],
        y=world.y[pool],
        alpha=1.0,
        rng=np.random.default_rng([rep, sum(map(ord, rule))] if rule != "random" else rep),
    )
    rho, prec, secs = [], [], 0.0
    while len(ctx.rated) < max(GRID):
        t = time.process_time()
        picks = qs.RULES[rule](ctx, BATCH)
        secs += time.process_time() - t
        assert len(set(picks.tolist()) & set(ctx.rated)) == 0, rule
        ctx.rated = ctx.rated + picks.tolist()
        n = len(ctx.rated)
        yr = ctx.y[ctx.rated]
        if np.ptp(yr) == 0:
            if n in GRID:
                rho.append(0.0)
                prec.append(0.0)
            continue
        model = eval_models.fit("ridge", ctx.x[ctx.rated], yr, seed=0)
        ctx.alpha = float(model.arrays["alpha"][0])
        if n in GRID:
            pred = model.predict(world.x[test])
            rho.append(eval_metrics.spearman(world.y[test], pred))
            prec.append(top_decile_precision(world.taste[test], pred))
    return {"rho": rho, "prec": prec, "cpu_s": secs}


def cmd_run(args: argparse.Namespace) -> None:
    lo, hi = (int(v) for v in args.seeds.split("-"))
    rules = args.rules.split(",")
    out = Path(args.out or f"bench/out/queue-{args.source}-{lo}-{hi}.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["world"], r["rule"]))
    for source, seed, taste, noise in qw.plan(args.source, list(range(lo, hi + 1)), args.users):
        world = qw.make_world(source, seed, taste, noise)
        rep = seed * 10 + qw.TASTES.index(taste)
        order = np.random.default_rng(1000 + rep).permutation(len(world.y))
        pool, test = order[N_TEST:], order[:N_TEST]
        for rule in rules:
            if (world.name, rule) in done:
                continue
            result = run_rule(world, rule, pool, test, rep)
            rec = {"world": world.name, "source": source, "seed": seed, "taste": taste}
            rec |= {"noise": noise, "rule": rule, **result}
            with out.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(
                f"{world.name:<28} {rule:<8} rho@30 {result['rho'][2]:.3f} @100 "
                f"{result['rho'][9]:.3f}  {result['cpu_s']:.1f}s",
                file=sys.stderr,
                flush=True,
            )


# -- summary -----------------------------------------------------------------------------------
def needed(curve: list[float], target: float) -> float:
    """The fewest ratings at which the curve reaches the target and still holds it at the next
    count of the grid (a single lucky crossing at 10 ratings is not a model the user has)."""
    held = [
        a >= target and b >= target for a, b in zip(curve, [*curve[1:], curve[-1]], strict=True)
    ]
    return next((n for n, ok in zip(GRID, held, strict=True) if ok), float("inf"))


def baseline_needed(by: dict, world: str, base: str, metric: str, target: float) -> float:
    """Ratings needed by the baseline: the median over its draws (base, base1, base2, ...)."""
    draws = [r for (w, rule), r in by.items() if w == world and rule.rstrip("0123456789") == base]
    return float(np.median([needed(r[metric], target) for r in draws]))


def paired(a: np.ndarray, b: np.ndarray) -> dict:
    """Rule a against baseline b (ratings needed per run, inf = never)."""
    from scipy import stats

    keep = ~(np.isinf(a) & np.isinf(b))
    a, b = a[keep], b[keep]
    cap = max(GRID) * 1.5  # "needed more than the last count"
    la, lb = np.log(np.minimum(a, cap)), np.log(np.minimum(b, cap))
    fewer, more = int((a < b).sum()), int((a > b).sum())
    sign_p = stats.binomtest(fewer, fewer + more).pvalue if fewer + more else 1.0
    diff = la - lb
    wil_p = stats.wilcoxon(diff[diff != 0]).pvalue if (diff != 0).sum() >= 6 else float("nan")
    ratio = np.minimum(a, cap) / np.minimum(b, cap)
    med_a, med_b = np.median(np.minimum(a, cap)), np.median(np.minimum(b, cap))
    return {
        "runs": len(a),
        "med": med_a,
        "iqr": np.percentile(np.minimum(a, cap), [25, 75]),
        "base_med": med_b,
        "base_iqr": np.percentile(np.minimum(b, cap), [25, 75]),
        "fewer": fewer,
        "tie": len(a) - fewer - more,
        "more": more,
        "worst": float(ratio.max()),
        "worse10": int((ratio > 1.1).sum()),
        "sign_p": sign_p,
        "wilcoxon_p": wil_p,
    }


def _fmt(v: float) -> str:
    return f">{max(GRID)}" if v > max(GRID) else f"{v:g}"


def cmd_summary(args: argparse.Namespace) -> None:
    recs = [json.loads(line) for p in args.files for line in Path(p).read_text().splitlines()]
    if args.source:
        recs = [r for r in recs if r["source"] == args.source]
    by = {(r["world"], r["rule"]): r for r in recs}
    worlds = sorted({r["world"] for r in recs})
    rules = [r for r in dict.fromkeys(r["rule"] for r in recs) if r.rstrip("0123456789") != args.vs]
    if args.rules:
        rules = [r for r in args.rules.split(",") if r in rules]
    libs = {r["world"].rsplit("-", 2)[0] for r in recs}
    print(f"{len(worlds)} runs on {len(libs)} libraries; baseline {args.vs}")
    mean_at = [GRID.index(n) for n in (20, 30, 50, 100, 200)]
    print("mean over the runs both have, at 20 / 30 / 50 / 100 / 200 ratings (rule vs random):")
    for rule in rules:
        ws = [w for w in worlds if (w, rule) in by and (w, args.vs) in by]
        cells = []
        for metric in ("rho", "prec"):
            mine = np.array([by[w, rule][metric] for w in ws])
            base = np.array([by[w, args.vs][metric] for w in ws])
            cells.append(
                " / ".join(
                    f"{np.nanmean(mine[:, i]):.2f}:{np.nanmean(base[:, i]):.2f}" for i in mean_at
                )
            )
        cpu = np.mean([by[w, rule]["cpu_s"] for w in ws])
        print(f"  {rule:<8} {len(ws):>3} runs  rho {cells[0]}   top-decile precision {cells[1]}")
        print(f"  {'':<8} rule cpu {cpu:.1f} s per run (300 ratings)")
    print("geometric mean of ratings needed, rule / random, over runs x rho targets (the choice):")
    cap = max(GRID) * 1.5
    for rule in rules:
        ws = [w for w in worlds if (w, rule) in by and (w, args.vs) in by]
        logs = []
        for t in RHO_TARGETS:
            for w in ws:
                a = needed(by[w, rule]["rho"], t)
                b = baseline_needed(by, w, args.vs, "rho", t)
                if not (np.isinf(a) and np.isinf(b)):
                    logs.append(np.log(min(a, cap) / min(b, cap)))
        logs_a = np.array(logs)
        print(
            f"  {rule:<8} {np.exp(logs_a.mean()):.2f}  ({len(logs_a)} run-targets; "
            f"{(logs_a > np.log(1.1)).sum()} > 10 % worse, {(logs_a < -np.log(1.1)).sum()} > 10 % better)"
        )
    targets = [("rho", t) for t in RHO_TARGETS] + [("prec", t) for t in PREC_TARGETS]
    print(
        "target      rule     runs  rule med [IQR]   base med [IQR]  med ratio  "
        "fewer/tie/more  worst  >10%worse  sign p  wilcoxon p"
    )
    for metric, t in targets:
        for rule in rules:
            ws = [w for w in worlds if (w, rule) in by and (w, args.vs) in by]
            a = np.array([needed(by[w, rule][metric], t) for w in ws])
            b = np.array([baseline_needed(by, w, args.vs, metric, t) for w in ws])
            s = paired(a, b)
            if args.markdown:
                print(
                    f"| {metric} {t:g} | {rule} | {s['runs']} | {_fmt(s['med'])} "
                    f"[{_fmt(s['iqr'][0])}–{_fmt(s['iqr'][1])}] | {_fmt(s['base_med'])} "
                    f"[{_fmt(s['base_iqr'][0])}–{_fmt(s['base_iqr'][1])}] | "
                    f"{s['med'] / s['base_med']:.2f} | {s['fewer']} / {s['tie']} / {s['more']} | "
                    f"{s['worst']:.2f} | {s['worse10']} | {s['sign_p']:.3f} | "
                    f"{s['wilcoxon_p']:.3f} |"
                )
                continue
            print(
                f"{metric} {t:<6} {rule:<8} {s['runs']:>4}  {_fmt(s['med']):>4} "
                f"[{_fmt(s['iqr'][0])}-{_fmt(s['iqr'][1])}]"
                f"   {_fmt(s['base_med']):>4} [{_fmt(s['base_iqr'][0])}-{_fmt(s['base_iqr'][1])}]"
                f"   {s['med'] / s['base_med']:.2f}     {s['fewer']:>3}/{s['tie']:>3}/{s['more']:<3}"
                f"   {s['worst']:.2f}   {s['worse10']:>3}     {s['sign_p']:.3f}   "
                f"{s['wilcoxon_p']:.3f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--source", choices=["tiny-clip", "clusters"], default="tiny-clip")
    r.add_argument("--seeds", default="400-419")
    r.add_argument("--users", type=int, default=2, help="simulated users per library")
    r.add_argument("--rules", default="random,random1,random2,cover,queue")
    r.add_argument("--out")
    s = sub.add_parser("summary")
    s.add_argument("files", nargs="+")
    s.add_argument("--vs", default="random")
    s.add_argument("--source")
    s.add_argument("--rules", help="only these rules (comma-separated)")
    s.add_argument("--markdown", action="store_true", help="table rows for BENCHMARKS.md")
    args = parser.parse_args()
    (cmd_run if args.cmd == "run" else cmd_summary)(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
