"""Rate-next candidate rules against random choices (BENCHMARKS.md, personal evaluator).

    nice python bench/queue_study.py LIBS STRATEGIES [SPLITS]
    nice python bench/queue_study.py 300,301,302,303 random,shipped,kmeans 2

LIBS: comma-separated library seeds (tiny-CLIP shapes, cached under bench/out/); STRATEGIES from:
random, shipped (queue_rules.plan: the queue the package ships now), kmeans (prototype of the shipped rule), vopt (greedy integrated
posterior variance), vmixP (vopt with a random pick with probability P), strat (oracle: round-robin
over the true colour x shape cells), ystrat (oracle that knows the ratings: evenly over rating
values), pstrat (evenly over equal-width bins of predicted rating after 20 random ratings).
Prints mean held-out rho per count and the ratings needed to reach each target, per run.
"""

import sys

import numpy as np

sys.path.insert(0, "bench")
sys.path.insert(0, ".")
import evaluator_bench as eb  # noqa: E402

from anagnorisis_tui.core.evaluator import metrics as eval_metrics
from anagnorisis_tui.core.evaluator import queue_rules, training
from anagnorisis_tui.core.evaluator import regressors as eval_models

CELL = np.array([])


def vopt(xr, xc, k, alpha, pool_x, rng=None, mix=0.0):
    mean = pool_x.mean(0)
    X = (pool_x - mean).astype(np.float64)
    xr = (xr - mean).astype(np.float64)
    xc = (xc - mean).astype(np.float64)
    d = X.shape[1]
    A_inv = np.linalg.inv(xr.T @ xr + alpha * np.eye(d))
    S = X.T @ X / len(X)
    picks = []
    taken = np.zeros(len(xc), bool)
    for _ in range(k):
        if rng is not None and rng.random() < mix:
            i = int(rng.choice(np.flatnonzero(~taken)))
        else:
            P = xc @ A_inv
            v = np.einsum("ij,ij->i", P, xc)
            red = np.einsum("ij,ij->i", P @ S, P) / (1 + v)
            red[taken] = -np.inf
            i = int(np.argmax(red))
        picks.append(i)
        taken[i] = True
        u = A_inv @ xc[i]
        A_inv -= np.outer(u, u) / (1 + xc[i] @ u)
    return np.array(picks)


def order_for(strategy, x_pool, y_pool, upto, rep, batch=10):
    if strategy == "ystrat":  # oracle: knows the ratings, spreads picks evenly over rating values
        rng = np.random.default_rng(rep + 3)
        cells = {}
        for i in rng.permutation(len(x_pool)):
            cells.setdefault(float(y_pool[i]), []).append(int(i))
        keys = sorted(cells)
        out = []
        while len(out) < upto:
            for k in keys:
                if cells[k]:
                    out.append(cells[k].pop())
        return out[:upto]
    if strategy == "strat":
        rng = np.random.default_rng(rep + 3)
        cells = {}
        for i in rng.permutation(len(x_pool)):
            cells.setdefault(CELL[i], []).append(int(i))
        keys = list(cells)
        rng.shuffle(keys)
        out = []
        while len(out) < upto:
            for k in keys:
                if cells[k]:
                    out.append(cells[k].pop())
        return out[:upto]
    if strategy == "random":
        return np.random.default_rng(rep).permutation(len(x_pool)).tolist()
    picked = []
    alpha = queue_rules.DEFAULT_ALPHA
    rng = np.random.default_rng(rep + 7)
    while len(picked) < upto:
        rest = np.setdiff1d(np.arange(len(x_pool)), picked)
        if strategy in ("current", "shipped"):
            plan = queue_rules.plan(
                x_pool[picked], y_pool[picked], x_pool[rest], batch, alpha=alpha
            )
            idx = np.array([p.index for p in plan], dtype=int)
        elif strategy == "vopt":
            idx = vopt(x_pool[picked], x_pool[rest], batch, alpha, x_pool)
        elif strategy.startswith("vmix"):
            idx = vopt(x_pool[picked], x_pool[rest], batch, alpha, x_pool, rng, float(strategy[4:]))
        elif strategy == "pstrat" and len(picked) < 20:
            idx = np.random.default_rng(rep + len(picked)).permutation(len(rest))[:batch]
        elif strategy == "pstrat":
            m = eval_models.fit("ridge", x_pool[picked], y_pool[picked], seed=0)
            p = m.predict(x_pool[rest])
            have = m.predict(x_pool[picked])
            # fill predicted-value bins evenly: 10 quantile bins of the pool's predictions
            edges = np.linspace(p.min(), p.max(), 11)[1:-1]
            b_rest = np.searchsorted(edges, p)
            b_have = np.bincount(np.searchsorted(edges, have), minlength=10).astype(float)
            r2 = np.random.default_rng(rep + len(picked))
            idx = []
            for _ in range(batch):
                avail = np.bincount(b_rest[~np.isin(np.arange(len(rest)), idx)], minlength=10) > 0
                j = int(np.argmin(np.where(avail, b_have, np.inf) + r2.random(10) * 1e-3))
                cand = np.flatnonzero((b_rest == j) & ~np.isin(np.arange(len(rest)), idx))
                idx.append(int(r2.choice(cand)))
                b_have[j] += 1
            idx = np.array(idx)
        elif strategy == "kmeans":
            from sklearn.cluster import KMeans

            k = len(picked) + batch
            km = KMeans(k, n_init=1, random_state=rep).fit(x_pool)
            lab = km.labels_
            have = set(lab[picked])
            sizes = np.bincount(lab, minlength=k)
            cl = [j for j in np.argsort(-sizes) if j not in have][:batch]
            idx = []
            rest_set = {r: n for n, r in enumerate(rest)}
            for j in cl:
                mem = np.flatnonzero(lab == j)
                dd = ((x_pool[mem] - km.cluster_centers_[j]) ** 2).sum(1)
                for m in mem[np.argsort(dd)]:
                    if m in rest_set:
                        idx.append(rest_set[m])
                        break
            idx = np.array(idx, int)
        picked += rest[idx].tolist()
        if len(picked) >= training.MIN_RATINGS and np.ptp(y_pool[picked]) > 0:
            alpha = float(
                eval_models.fit("ridge", x_pool[picked], y_pool[picked], seed=0).arrays["alpha"][0]
            )
    return picked[:upto]


grid = list(range(20, 201, 10)) + [250, 300]
libs = [int(a) for a in sys.argv[1].split(",")]
strategies = sys.argv[2].split(",")
splits = int(sys.argv[3]) if len(sys.argv) > 3 else 1
targets = (0.25, 0.3, 0.35, 0.4)
found = {}
curves = {}
for lib in libs:
    x, c, s = eb.tiny_clip_dataset(3000, lib)
    for sp in range(splits):
        rep = lib * 10 + sp
        y = eb.simulated_user(c, s, np.random.default_rng(500 + rep))
        pool, test = eb._split(len(y), 1000, rep)
        for st in strategies:
            CELL = np.char.add(c[pool].astype(str), s[pool].astype(str))
            o = pool[order_for(st, x[pool], y[pool], max(grid), rep)]
            cur = [
                eval_metrics.spearman(
                    y[test], eval_models.fit("ridge", x[o[:n]], y[o[:n]], seed=0).predict(x[test])
                )
                for n in grid
            ]
            curves.setdefault(st, []).append(cur)
            for t in targets:
                found.setdefault((st, t), []).append(
                    next((n for n, r in zip(grid, cur, strict=True) if r >= t), 999)
                )
        print("done", lib, sp, file=sys.stderr, flush=True)
for st in strategies:
    m = np.mean(curves[st], 0)
    print(
        st,
        " ".join(
            f"{n}:{r:.3f}"
            for n, r in zip(grid, m, strict=True)
            if n in (20, 30, 40, 50, 70, 100, 150, 200, 300)
        ),
    )
for t in targets:
    print(
        t, "  ".join(f"{st} {int(np.median(found[(st, t)]))} {found[(st, t)]}" for st in strategies)
    )
