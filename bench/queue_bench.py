"""Rate-next rules against random choices on many fresh libraries and simulated users.

    nice -n 19 python bench/queue_bench.py run --source clusters --seeds 900-919 --rules queue --draws 1 --out q.jsonl
    nice -n 19 python bench/queue_bench.py run --source clusters --seeds 900-919 --rules random,chance --draws 30 --out r.jsonl
    python bench/queue_bench.py summary q.jsonl r.jsonl [--vs random] [--markdown]

A run is one library (bench/queue_worlds.py), one simulated user and one held-out split (1,000
images never rated); every rule in the run sees the same library, ratings and split, so rules
are compared in pairs. Each rule is run --draws times with different seeds for its own random
choices (for `random` and `chance`: different random orders). It hands out BATCH images at a
time, as the app does: the Train screen asks for a queue of QUEUE_LEN and works it out again
every 5 ratings (ui/screens/train.py REFRESH_EVERY), so the user rates the first 5 of each
queue. After every batch the ridge model (`train`'s head on these vectors, alpha by
leave-one-out) is refitted, its alpha passed to the rule, and at each count of GRID the
held-out Spearman rho and the top-decile precision are recorded: of the 10 % of held-out images
the model rates highest, the share the user loves most (their top taste level), out of the most
that could be.

"Needed" is the fewest ratings at which the target is reached and still held over the next
HOLD ratings (a lucky crossing is not a model the user has); never within the run counts as
CAP. A rule's figure on a run (one library, one user) is the mean over its draws of the ratings
needed: what a user of that library should expect, not one lucky or unlucky order. The random
baseline is the same mean over random order's draws; `chance` is a second, independent set of
random orders scored exactly like a rule, so its row shows what luck alone does.

`summary` prints, per target, those per-run figures (median, IQR over runs), the ratio of
medians against the baseline, how many runs needed fewer / the same / more, the worst run's
ratio, the runs more than 10 % worse, and paired tests (sign test, Wilcoxon signed-rank on log
figures); a run where no draw of either reached the target is left out. With `chance` in the
files it also counts, per target, the runs where a rule is worse than chance's worst run.
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

BATCH = 5  # ratings between queue refreshes, as ui/screens/train.py REFRESH_EVERY
QUEUE_LEN = 50  # the queue the Train screen asks for (ui/screens/train.py QUEUE_SIZE)
GRID = (*range(5, 201, 5), 250, 300)
HOLD = 10  # a target counts as reached once it holds over the next HOLD ratings
CAP = max(GRID) * 1.5  # "needed more than the last count"
OLD_GRID = (*range(10, 201, 10), 250, 300)  # records made before --draws (batch 10)
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


def run_rule(
    world: qw.World, rule: str, pool: np.ndarray, test: np.ndarray, rep: int, draw: int
) -> dict:
    ctx = qs.Context(
        x=world.x[pool],
        rated=[],
        y=world.y[pool],
        alpha=1.0,
        rng=np.random.default_rng([rep, sum(map(ord, rule)), draw]),
        queue_len=QUEUE_LEN,
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
            done.add((r["world"], r["rule"], r.get("draw", 0)))
    for source, seed, taste, noise in qw.plan(args.source, list(range(lo, hi + 1)), args.users):
        world = qw.make_world(source, seed, taste, noise)
        rep = seed * 10 + qw.TASTES.index(taste)
        order = np.random.default_rng(1000 + rep).permutation(len(world.y))
        pool, test = order[N_TEST:], order[:N_TEST]
        for draw in range(args.draws):
            for rule in rules:
                if (world.name, rule, draw) in done:
                    continue
                result = run_rule(world, rule, pool, test, rep, draw)
                rec = {"world": world.name, "source": source, "seed": seed, "taste": taste}
                rec |= {"noise": noise, "rule": rule, "draw": draw, **result}
                rec |= {"batch": BATCH, "grid": list(GRID)}
                with out.open("a") as f:
                    f.write(json.dumps(rec) + "\n")
                print(
                    f"{world.name:<28} {rule:<8} {draw} rho@30 "
                    f"{result['rho'][GRID.index(30)]:.3f} @100 "
                    f"{result['rho'][GRID.index(100)]:.3f}  {result['cpu_s']:.1f}s",
                    file=sys.stderr,
                    flush=True,
                )


# -- summary -----------------------------------------------------------------------------------
def needed(curve: list[float], target: float, grid: tuple[int, ...] = GRID) -> float:
    """The fewest ratings at which the curve reaches the target and still holds it over the
    next HOLD ratings, and at least at the next count of the grid (a single lucky crossing is
    not a model the user has)."""
    for i, n in enumerate(grid):
        ahead = [j for j in range(i, len(grid)) if grid[j] <= n + HOLD or j == i + 1]
        if all(curve[j] >= target for j in ahead):
            return float(n)
    return float("inf")


def base_name(rule: str) -> str:
    """Records made before --draws named further random orders random1, random2: draws."""
    return rule.rstrip("0123456789") if rule.startswith("random") else rule


def figure(draws: list[dict], metric: str, target: float) -> float:
    """A rule's ratings needed on one run: the mean over its draws (never = CAP); inf when no
    draw reached the target."""
    vals = np.array([needed(r[metric], target, tuple(r.get("grid", OLD_GRID))) for r in draws])
    if np.isinf(vals).all():
        return float("inf")
    return float(np.minimum(vals, CAP).mean())


def paired(a: np.ndarray, b: np.ndarray) -> dict:
    """Rule a against baseline b (ratings needed per run, inf = never)."""
    from scipy import stats

    keep = ~(np.isinf(a) & np.isinf(b))
    a, b = a[keep], b[keep]
    cap = CAP
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
    return f">{max(GRID)}" if v > max(GRID) else f"{v:.3g}"


def at(rec: dict, metric: str, n: int) -> float:
    grid = rec.get("grid", OLD_GRID)
    return rec[metric][grid.index(n)]


def cmd_summary(args: argparse.Namespace) -> None:
    recs = [json.loads(line) for p in args.files for line in Path(p).read_text().splitlines()]
    if args.source:
        recs = [r for r in recs if r["source"] == args.source]
    if args.draws:
        recs = [r for r in recs if r.get("draw", 0) < args.draws]
    by: dict[tuple[str, str], list[dict]] = {}
    for r in recs:
        by.setdefault((r["world"], base_name(r["rule"])), []).append(r)
    worlds = sorted({r["world"] for r in recs})
    rules = [r for r in dict.fromkeys(base_name(r["rule"]) for r in recs) if r != args.vs]
    if args.rules:
        rules = [r for r in args.rules.split(",") if r in rules]
    libs = {r["world"].rsplit("-", 2)[0] for r in recs}
    draws = {k: len(v) for k, v in by.items()}
    print(
        f"{len(worlds)} runs on {len(libs)} libraries; baseline {args.vs}; draws per run and "
        f"rule {min(draws.values())}-{max(draws.values())}"
    )
    print("mean over runs (and draws), at 20 / 30 / 50 / 100 / 200 ratings (rule vs baseline):")
    for rule in rules:
        ws = [w for w in worlds if (w, rule) in by and (w, args.vs) in by]
        cells = []
        for metric in ("rho", "prec"):
            cell = []
            for n in (20, 30, 50, 100, 200):
                mine = [np.nanmean([at(r, metric, n) for r in by[w, rule]]) for w in ws]
                base = [np.nanmean([at(r, metric, n) for r in by[w, args.vs]]) for w in ws]
                cell.append(f"{np.nanmean(mine):.2f}:{np.nanmean(base):.2f}")
            cells.append(" / ".join(cell))
        cpu = np.mean([r["cpu_s"] for w in ws for r in by[w, rule]])
        print(f"  {rule:<8} {len(ws):>3} runs  rho {cells[0]}   top-decile precision {cells[1]}")
        print(f"  {'':<8} rule cpu {cpu:.1f} s per draw (300 ratings)")
    print(
        "geometric mean of ratings needed, rule / baseline, over runs x rho targets (the choice):"
    )
    for rule in rules:
        ws = [w for w in worlds if (w, rule) in by and (w, args.vs) in by]
        logs = []
        for t in RHO_TARGETS:
            for w in ws:
                a = figure(by[w, rule], "rho", t)
                b = figure(by[w, args.vs], "rho", t)
                if not (np.isinf(a) and np.isinf(b)):
                    logs.append(np.log(min(a, CAP) / min(b, CAP)))
        logs_a = np.array(logs)
        print(
            f"  {rule:<8} {np.exp(logs_a.mean()):.2f}  ({len(logs_a)} run-targets; "
            f"{(logs_a > np.log(1.1)).sum()} > 10 % worse, {(logs_a < -np.log(1.1)).sum()} > 10 % better)"
        )
    targets = [("rho", t) for t in RHO_TARGETS] + [("prec", t) for t in PREC_TARGETS]
    if not args.markdown:
        print(
            "target      rule     runs  rule med [IQR]   base med [IQR]  med ratio  "
            "fewer/tie/more  worst  >10%worse  sign p  wilcoxon p"
        )
    for metric, t in targets:
        for rule in rules:
            ws = [w for w in worlds if (w, rule) in by and (w, args.vs) in by]
            a = np.array([figure(by[w, rule], metric, t) for w in ws])
            b = np.array([figure(by[w, args.vs], metric, t) for w in ws])
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
    if "chance" in rules:
        beyond_chance(by, worlds, [r for r in rules if r != "chance"], targets, args.vs)


def beyond_chance(by: dict, worlds: list[str], rules: list[str], targets: list, vs: str) -> None:
    """Per target, the runs where a rule's ratio to the baseline is above the worst ratio
    `chance` (random order scored as a rule) has on any run: losses luck alone did not show."""
    print("runs worse than chance's worst run (rule / baseline), per target:")
    for metric, t in targets:
        worst: dict[str, list[tuple[float, str]]] = {}
        for rule in ["chance", *rules]:
            ratios = []
            for w in worlds:
                if (w, rule) not in by or (w, vs) not in by:
                    continue
                a, b = figure(by[w, rule], metric, t), figure(by[w, vs], metric, t)
                if not (np.isinf(a) and np.isinf(b)):
                    ratios.append((min(a, CAP) / min(b, CAP), w))
            worst[rule] = sorted(ratios, reverse=True)
        limit = worst["chance"][0][0]
        cells = []
        for rule in rules:
            bad = [(r, w) for r, w in worst[rule] if r > limit]
            top = ", ".join(f"{w} {r:.2f}" for r, w in bad[:3])
            cells.append(f"{rule} {len(bad)}" + (f" ({top})" if top else ""))
        print(f"  {metric} {t:g}: chance's worst {limit:.2f}; " + "; ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--source", choices=["tiny-clip", "clusters"], default="tiny-clip")
    r.add_argument("--seeds", default="400-419")
    r.add_argument("--users", type=int, default=2, help="simulated users per library")
    r.add_argument("--rules", default="random,chance,queue")
    r.add_argument("--draws", type=int, default=5, help="seeds per rule (random: orders)")
    r.add_argument("--out")
    s = sub.add_parser("summary")
    s.add_argument("files", nargs="+")
    s.add_argument("--vs", default="random")
    s.add_argument("--source")
    s.add_argument("--rules", help="only these rules (comma-separated)")
    s.add_argument("--markdown", action="store_true", help="table rows for BENCHMARKS.md")
    s.add_argument("--draws", type=int, help="only each rule's first DRAWS draws")
    args = parser.parse_args()
    (cmd_run if args.cmd == "run" else cmd_summary)(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
