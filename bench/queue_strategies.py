"""Candidate rate-next rules for bench/queue_bench.py.

Each rule is pick(ctx, batch) -> indices into the pool, given what is rated so far. Rules that
need a model use a bootstrap ensemble of ridge fits at the alpha the full ridge fit chose (the
head `train` picks on these vectors; ridge is refitted in closed form, so an ensemble of 8 costs
little more than one fit).

- random: uniform over the unrated.
- cover: k-means coverage (medoids of the biggest clusters with no rating) all the way: the
  queue the package shipped before this study (its runs are named "shipped" in the records
  made before the switch).
- queue: what the package's rate-next queue does now (queue_rules.plan), as the app asks for
  it (a queue of 50, the first batch rated): greedy facility location on squared distances
  all the way; fl2 below is its prototype. (In the records of the third study and the
  fourth's exploration, "queue" is the rule before, now `prev`: k-means coverage for the cold
  start, then coverage and random in turn; in the second study's records, the one before
  that: coverage, then possible favourites (ensemble mean + spread) and random, as ucbr.)
- prev: the third study's package rule (above), as the app asked for it.
- qbc: coverage for the first COLD ratings, then the largest ensemble disagreement (std of the
  bootstrap predictions), one pick per k-means region of the unrated images.
- qbct: qbc x typicality (mean similarity to the nearest images) so outliers are not chased.
- ext: coverage first, then |prediction - mean| + std: the likely extremes (both ends) and the
  uncertain, a proxy for the oracle that spreads ratings over the rating values.
- ucb: coverage first, then prediction + std (what may be loved, optimistic).
- igs: coverage first, then improved greedy sampling (Wu, Lin, Huang 2019): the largest
  min over rated images of distance in vectors x distance between predicted and given rating.
- mix: coverage first; then in each batch half coverage picks and half qbc picks.
- ucbr, qbcr: coverage first; then half of each batch ucb (qbc) picks, half random.
- thompson: coverage first; then the highest predictions of one bootstrap member (a fresh
  draw each batch), one per region.
- chance: one more random order, scored like a rule against the median of the random orders:
  how often luck alone makes a run more than 10 % worse.
- ted: greedy transductive experimental design (Yu, Bi, Tresp 2006) for ridge at the current
  alpha, all the way; ted1 at a fixed alpha of 1. tedr: ted for the cold start, then half ted,
  half random; tedrand / t1rand: ted / ted1 for the cold start, then random.
- strat / stratw: ted for the cold start, then one random image per equal-count / equal-width
  bin of the predicted rating; t1stratw: ted1 for the cold start, then stratw.
- crand: coverage for the cold start, then random; cmix: coverage for the cold start, then
  half coverage, half random; q40: the previous queue with 40 ratings of coverage.
- fourth study (batch 5, the app's queue of 50): cover50: k-means coverage all the way, as the
  app asks for it; fl: greedy facility location (k-medoids: each pick most shrinks the summed
  distance from every unrated image to its nearest rated-or-picked one) all the way; flr /
  flr40: fl for the first 20 / 40 ratings, then fl and random in turn; flr2: two fl picks to
  one random; fl2: facility location on squared distances (greedy k-means with the rated
  images as fixed centres) all the way; fl2r: fl2, then fl2 and random in turn; fl2w: fl2 in
  the whitened principal space; fl2r40: fl2 for 40 ratings, then fl2 and random in turn;
  fl2rand60: fl2 for 60 ratings, then random.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from anagnorisis_tui.core.evaluator import queue_rules

COLD = 20
ENSEMBLE = 8


@dataclass
class Context:
    x: np.ndarray  # the pool's vectors
    rated: list[int]  # pool indices rated so far, in order
    y: np.ndarray  # the pool's ratings (read only at rated indices)
    alpha: float
    rng: np.random.Generator
    queue_len: int = 0  # the queue the app asks for; 0: just the batch
    cache: dict = field(default_factory=dict)

    @property
    def rest(self) -> np.ndarray:
        return np.setdiff1d(np.arange(len(self.x)), self.rated)


# -- k-means coverage: the package's rule before the fourth study, kept here to measure it ---
FIT_ROWS = 10_000  # k-means is fitted on a seeded sample this big, then assigns all
MAX_CLUSTERS = 500


def _kmeans(x: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(labels, squared distance to the own centre) for every row: seeded k-means on a sample."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    sample = np.sort(np.random.default_rng(seed).permutation(len(x))[:FIT_ROWS])
    with threadpool_limits(1, "blas"):
        xp = queue_rules._project(np.asarray(x, np.float32), sample)
        km = KMeans(k, n_init=1, max_iter=50, random_state=seed).fit(xp[sample])
        labels = km.predict(xp)
    return labels, ((xp - km.cluster_centers_[labels]) ** 2).sum(axis=1)


def kmeans_cover(
    x_rated: np.ndarray, x_cand: np.ndarray, top_k: int, *, seed: int = 0
) -> np.ndarray:
    """Indices into x_cand: medoids of the biggest k-means clusters that hold no rated image
    (k = rated + top_k, at most MAX_CLUSTERS, on rated and candidate vectors together). May
    return fewer than top_k."""
    x_rated = np.asarray(x_rated, np.float32).reshape(-1, x_cand.shape[1])
    if len(x_rated) > queue_rules.COVER_RATED:
        keep = np.random.default_rng(seed).permutation(len(x_rated))[: queue_rules.COVER_RATED]
        x_rated = x_rated[np.sort(keep)]
    x_all = np.concatenate([x_rated, np.asarray(x_cand, np.float32)])
    k = min(len(x_rated) + top_k, len(x_all), FIT_ROWS, MAX_CLUSTERS)
    labels, dist = _kmeans(x_all, k, seed)
    covered = set(labels[: len(x_rated)].tolist())
    cand_labels, cand_dist = labels[len(x_rated) :], dist[len(x_rated) :]
    picks: list[int] = []
    for cluster in np.argsort(-np.bincount(labels, minlength=k), kind="stable"):
        if cluster in covered:
            continue
        members = np.flatnonzero(cand_labels == cluster)
        if len(members):
            picks.append(int(members[np.argmin(cand_dist[members])]))
        if len(picks) == top_k:
            break
    return np.array(picks, dtype=int)


def prev(ctx: Context, batch: int) -> np.ndarray:
    """The package's rule of the third study, as the app asked for it (a queue of 50, the
    first `batch` rated): k-means coverage for the first 20 ratings, then coverage and random
    picks in turn (recorded as "queue" in the third study and the fourth's exploration)."""
    rest = ctx.rest
    seed = int(ctx.rng.integers(2**31))
    top_k = min(max(batch, ctx.queue_len), len(rest))
    y = ctx.y[ctx.rated]
    if len(y) < COLD or np.ptp(y) == 0:
        news = kmeans_cover(ctx.x[ctx.rated], ctx.x[rest], top_k, seed=seed)
        left = np.random.default_rng(seed).permutation(np.setdiff1d(np.arange(len(rest)), news))
        order = np.concatenate([news, left[: top_k - len(news)]]).astype(int)
    else:
        news = kmeans_cover(ctx.x[ctx.rated], ctx.x[rest], top_k - top_k // 2, seed=seed)
        left = np.setdiff1d(np.arange(len(rest)), news)
        randoms = np.random.default_rng([seed, len(y)]).permutation(left)[: top_k - len(news)]
        order = _alternate(news, randoms, top_k)
    return rest[order[:batch]]


def ridge_fixed(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(x_mean, coef, y_mean) of ridge at a given alpha (dual form when rows < columns)."""
    xm, ym = x.mean(0), float(y.mean())
    xc, yc = (x - xm).astype(np.float64), y.astype(np.float64) - ym
    n, d = xc.shape
    if n < d:
        coef = xc.T @ np.linalg.solve(xc @ xc.T + alpha * np.eye(n), yc)
    else:
        coef = np.linalg.solve(xc.T @ xc + alpha * np.eye(d), xc.T @ yc)
    return xm, coef, ym


def ensemble(ctx: Context, xq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) of bootstrap ridge predictions at xq."""
    r = np.array(ctx.rated)
    preds = []
    for b in range(ENSEMBLE):
        take = r[np.random.default_rng(1000 * len(r) + b).integers(0, len(r), len(r))]
        xm, coef, ym = ridge_fixed(ctx.x[take], ctx.y[take], ctx.alpha)
        preds.append((xq - xm) @ coef + ym)
    p = np.clip(np.array(preds), 0, 10)
    return p.mean(0), p.std(0)


def typicality(ctx: Context) -> np.ndarray:
    if "typ" not in ctx.cache:
        sims = ctx.x @ ctx.x.T
        ctx.cache["typ"] = np.sort(sims, axis=1)[:, -21:-1].mean(1)
    return ctx.cache["typ"]


def spread_top(ctx: Context, rest: np.ndarray, score: np.ndarray, batch: int) -> np.ndarray:
    """The best-scored unrated image in each of `batch` regions (k-means on the top quarter)."""
    from sklearn.cluster import KMeans

    top = np.argsort(-score)[: max(batch * 8, len(rest) // 4)]
    km = KMeans(batch, n_init=1, max_iter=30, random_state=len(ctx.rated)).fit(ctx.x[rest[top]])
    out = []
    for j in range(batch):
        mem = np.flatnonzero(km.labels_ == j)
        if len(mem):
            out.append(int(top[mem[np.argmax(score[top[mem]])]]))
    return rest[np.array(out, int)]


def cover(ctx: Context, batch: int) -> np.ndarray:
    """k-means coverage (queue_rules.cover), filled up at random when it comes up short."""
    rest = ctx.rest
    idx = kmeans_cover(ctx.x[ctx.rated], ctx.x[rest], batch)
    if len(idx) < batch:
        others = np.setdiff1d(np.arange(len(rest)), idx)
        idx = np.concatenate([idx, ctx.rng.choice(others, batch - len(idx), replace=False)])
    return rest[idx.astype(int)]


def shipped(ctx: Context, batch: int) -> np.ndarray:
    """What the package's rate-next queue does now (queue_rules.plan), as the app asks for it: a
    queue of ctx.queue_len, of which the user rates the first `batch` before the next refresh.
    Its seed comes from the draw's generator (the app's seed is fixed, its library is not)."""
    rest = ctx.rest
    y = ctx.y[ctx.rated]
    seed = int(ctx.rng.integers(2**31))
    top_k = max(batch, ctx.queue_len)
    picks = queue_rules.plan(ctx.x[ctx.rated], y, ctx.x[rest], top_k, alpha=ctx.alpha, seed=seed)
    return rest[np.array([p.index for p in picks[:batch]], dtype=int)]


def _after_cold(rule):
    def pick(ctx: Context, batch: int) -> np.ndarray:
        if len(ctx.rated) < COLD or np.ptp(ctx.y[ctx.rated]) == 0:
            return cover(ctx, batch)
        return rule(ctx, batch)

    return pick


@_after_cold
def qbc(ctx: Context, batch: int) -> np.ndarray:
    rest = ctx.rest
    _, std = ensemble(ctx, ctx.x[rest])
    return spread_top(ctx, rest, std, batch)


@_after_cold
def qbct(ctx: Context, batch: int) -> np.ndarray:
    rest = ctx.rest
    _, std = ensemble(ctx, ctx.x[rest])
    typ = typicality(ctx)[rest]
    return spread_top(ctx, rest, std * np.clip(typ, 1e-3, None) ** 4, batch)


@_after_cold
def ext(ctx: Context, batch: int) -> np.ndarray:
    rest = ctx.rest
    mean, std = ensemble(ctx, ctx.x[rest])
    return spread_top(ctx, rest, np.abs(mean - ctx.y[ctx.rated].mean()) + std, batch)


@_after_cold
def ucb(ctx: Context, batch: int) -> np.ndarray:
    rest = ctx.rest
    mean, std = ensemble(ctx, ctx.x[rest])
    return spread_top(ctx, rest, mean + std, batch)


@_after_cold
def igs(ctx: Context, batch: int) -> np.ndarray:
    rest = ctx.rest
    mean, _ = ensemble(ctx, ctx.x[rest])
    xr, yr = ctx.x[ctx.rated], ctx.y[ctx.rated]
    dx = np.sqrt(np.maximum(2 - 2 * ctx.x[rest] @ xr.T, 0))
    score = (dx * np.abs(mean[:, None] - yr[None, :])).min(1)
    out = []
    for _ in range(batch):
        i = int(np.argmax(score))
        out.append(i)
        d_new = np.sqrt(np.maximum(2 - 2 * ctx.x[rest] @ ctx.x[rest[i]], 0))
        score = np.minimum(score, d_new * np.abs(mean - mean[i]))
        score[i] = -np.inf
    return rest[np.array(out)]


@_after_cold
def mix(ctx: Context, batch: int) -> np.ndarray:
    first = cover(ctx, batch // 2)
    rest = np.setdiff1d(ctx.rest, first)  # the qbc half must not repeat the coverage half
    _, std = ensemble(ctx, ctx.x[rest])
    return np.concatenate([first, spread_top(ctx, rest, std, batch - len(first))])


def _half_random(rule):
    def pick(ctx: Context, batch: int) -> np.ndarray:
        if len(ctx.rated) < COLD or np.ptp(ctx.y[ctx.rated]) == 0:
            return cover(ctx, batch)
        first = rule(ctx, batch - batch // 2)
        rest = np.setdiff1d(ctx.rest, first)
        return np.concatenate([first, ctx.rng.choice(rest, batch // 2, replace=False)])

    return pick


@_after_cold
def thompson(ctx: Context, batch: int) -> np.ndarray:
    """One bootstrap member's predictions, highest first, one per region."""
    rest = ctx.rest
    r = np.array(ctx.rated)
    take = r[ctx.rng.integers(0, len(r), len(r))]
    xm, coef, ym = ridge_fixed(ctx.x[take], ctx.y[take], ctx.alpha)
    return spread_top(ctx, rest, (ctx.x[rest] - xm) @ coef + ym, batch)


def random_rule(ctx: Context, batch: int) -> np.ndarray:
    rest = ctx.rest
    return ctx.rng.choice(rest, size=min(batch, len(rest)), replace=False)


def design(
    x_rated: np.ndarray,
    x_cand: np.ndarray,
    top_k: int,
    *,
    alpha: float,
    pool_rows: int = 2_000,
    seed: int = 0,
) -> np.ndarray:
    """Indices into x_cand, in order: greedy transductive experimental design (Yu, Bi and
    Tresp 2006) for ridge at `alpha`. Each pick is the image whose rating would shrink the
    model's total uncertainty over the library the most, given the rated images and the picks
    before it. It depends on the vectors only, never on the ratings.

    The library is represented by a seeded sample of at most pool_rows candidates, and picks
    come from that sample: with M = Xp (Xr'Xr + alpha I)^-1 Xp' on the centred sample Xp (the
    ridge posterior covariance of the predictions there, in units of the noise), a pick c
    removes |M[:, c]|^2 / (1 + M[c, c]) of trace(M), and M takes a rank-one update."""
    from threadpoolctl import threadpool_limits

    n_cand = len(x_cand)
    top_k = min(top_k, n_cand)
    if top_k <= 0:
        return np.zeros(0, dtype=int)
    pool = np.arange(n_cand)
    if n_cand > pool_rows:
        pool = np.sort(np.random.default_rng(seed).permutation(n_cand)[:pool_rows])
    with threadpool_limits(1, "blas"):
        xp = np.asarray(x_cand[pool], np.float64)
        mean = xp.mean(axis=0)
        xp -= mean
        xr = np.asarray(x_rated, np.float64).reshape(-1, xp.shape[1]) - mean
        d = xp.shape[1]
        if len(xr) < d:
            # Dual form: (Xr'Xr + aI)^-1 = (I - Xr'(XrXr' + aI)^-1 Xr) / a.
            kpr = xp @ xr.T
            inner = np.linalg.solve(xr @ xr.T + alpha * np.eye(len(xr)), kpr.T)
            m = (xp @ xp.T - kpr @ inner) / alpha
        else:
            m = xp @ np.linalg.solve(xr.T @ xr + alpha * np.eye(d), xp.T)
        picks: list[int] = []
        taken = np.zeros(len(pool), dtype=bool)
        for _ in range(min(top_k, len(pool))):
            gain = (m * m).sum(axis=0) / (1.0 + np.diag(m))
            gain[taken] = -np.inf
            c = int(np.argmax(gain))
            picks.append(c)
            taken[c] = True
            col = m[:, c].copy()
            m -= np.outer(col, col) / (1.0 + col[c])
    return pool[np.array(picks, dtype=int)]


def ted(ctx: Context, batch: int) -> np.ndarray:
    """Transductive experimental design for ridge at the current alpha, all the way."""
    rest = ctx.rest
    return rest[design(ctx.x[ctx.rated], ctx.x[rest], batch, alpha=ctx.alpha)]


def ted1(ctx: Context, batch: int) -> np.ndarray:
    """ted at a fixed alpha of 1 (the LOO alpha of an actively chosen sample may mislead)."""
    rest = ctx.rest
    return rest[design(ctx.x[ctx.rated], ctx.x[rest], batch, alpha=1.0)]


def _ted_cold(rule):
    def pick(ctx: Context, batch: int) -> np.ndarray:
        if len(ctx.rated) < COLD or np.ptp(ctx.y[ctx.rated]) == 0:
            return ted(ctx, batch)
        return rule(ctx, batch)

    return pick


@_ted_cold
def tedr(ctx: Context, batch: int) -> np.ndarray:
    """ted for the cold start, then half ted, half random."""
    first = ted(ctx, batch - batch // 2)
    rest = np.setdiff1d(ctx.rest, first)
    return np.concatenate([first, ctx.rng.choice(rest, batch // 2, replace=False)])


@_ted_cold
def tedrand(ctx: Context, batch: int) -> np.ndarray:
    """ted for the cold start, then random."""
    return random_rule(ctx, batch)


@_ted_cold
def strat(ctx: Context, batch: int) -> np.ndarray:
    """ted for the cold start, then one random image from each of `batch` equal-count bins of
    the model's predicted rating (covers the whole score range rho is computed over)."""
    rest = ctx.rest
    mean, _ = ensemble(ctx, ctx.x[rest])
    order = np.argsort(mean, kind="stable")
    return rest[[int(ctx.rng.choice(b)) for b in np.array_split(order, batch)]]


@_ted_cold
def stratw(ctx: Context, batch: int) -> np.ndarray:
    """ted for the cold start, then one random image from each of `batch` equal-width bins of
    the predicted rating (the tails weigh more than in random order)."""
    rest = ctx.rest
    mean, _ = ensemble(ctx, ctx.x[rest])
    edges = np.linspace(mean.min(), mean.max() + 1e-9, batch + 1)
    out: list[int] = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        members = np.flatnonzero((mean >= lo) & (mean < hi))
        members = np.setdiff1d(members, out)
        if len(members):
            out.append(int(ctx.rng.choice(members)))
    left = np.setdiff1d(np.arange(len(rest)), out)
    out += ctx.rng.choice(left, batch - len(out), replace=False).tolist()
    return rest[np.array(out, dtype=int)]


def _cold_with(cold_rule, rule):
    def pick(ctx: Context, batch: int) -> np.ndarray:
        if len(ctx.rated) < COLD or np.ptp(ctx.y[ctx.rated]) == 0:
            return cold_rule(ctx, batch)
        return rule(ctx, batch)

    return pick


def q40(ctx: Context, batch: int) -> np.ndarray:
    """The shipped queue with coverage for the first 40 ratings instead of 20."""
    if len(ctx.rated) < 40 or np.ptp(ctx.y[ctx.rated]) == 0:
        return cover(ctx, batch)
    return shipped(ctx, batch)


@_after_cold
def cmix(ctx: Context, batch: int) -> np.ndarray:
    """Coverage for the cold start, then half coverage, half random."""
    first = cover(ctx, batch - batch // 2)
    rest = np.setdiff1d(ctx.rest, first)
    return np.concatenate([first, ctx.rng.choice(rest, batch // 2, replace=False)])


RULES = {
    "random": random_rule,
    "random1": random_rule,  # further random orders: ctx.rng is seeded per rule name
    "random2": random_rule,
    "chance": random_rule,  # one more random order, as a rule: the noise floor of a comparison
    "cover": cover,
    "queue": shipped,
    "qbc": qbc,
    "qbct": qbct,
    "ext": ext,
    "ucb": ucb,
    "igs": igs,
    "mix": mix,
    "ucbr": _half_random(ucb),
    "qbcr": _half_random(qbc),
    "thompson": thompson,
    "ted": ted,
    "ted1": ted1,
    "tedr": tedr,
    "tedrand": tedrand,
    "strat": strat,
    "stratw": stratw,
    "t1rand": _cold_with(ted1, random_rule),
    "t1stratw": _cold_with(ted1, stratw),
    "crand": _cold_with(cover, random_rule),
    "q40": q40,
    "cmix": cmix,
}


# -- fourth study: the app's queue length, facility location ---------------------------------
def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of a and b."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0))


def facility(x_rated: np.ndarray, x_cand: np.ndarray, top_k: int, power: int = 1) -> np.ndarray:
    """Indices into x_cand, in order: greedy facility location (k-medoids) over the candidates
    given the rated images. Each pick most shrinks the summed distance (to `power`) from every
    candidate to its nearest rated-or-picked image: typical of a big part of the library, and
    unlike what is rated. Greedy, so the first picks of a longer queue are the same."""
    d = _dist(x_cand, x_cand) ** power
    near = (_dist(x_cand, x_rated) ** power).min(1) if len(x_rated) else None
    cur = near if near is not None else np.full(len(x_cand), d.max())
    picks: list[int] = []
    for _ in range(min(top_k, len(x_cand))):
        gain = np.maximum(cur[None, :] - d, 0).sum(1)
        gain[picks] = -np.inf
        c = int(np.argmax(gain))
        picks.append(c)
        cur = np.minimum(cur, d[c])
    return np.array(picks, dtype=int)


def fl(ctx: Context, batch: int) -> np.ndarray:
    """Facility location all the way."""
    rest = ctx.rest
    return rest[facility(ctx.x[ctx.rated], ctx.x[rest], batch)]


def _alternate(first: np.ndarray, second: np.ndarray, batch: int) -> np.ndarray:
    out = [int(i) for pair in zip(first, second, strict=False) for i in pair]
    out += [int(i) for i in first[len(second) :]] + [int(i) for i in second[len(first) :]]
    return np.array(out[:batch], dtype=int)


def _fl_then(cold: int, share_random: bool):
    def pick(ctx: Context, batch: int) -> np.ndarray:
        if len(ctx.rated) < cold or np.ptp(ctx.y[ctx.rated]) == 0 or not share_random:
            return fl(ctx, batch)
        # As the app would order a queue of 50: facility, random, facility, ...
        firsts = fl(ctx, batch - batch // 2)
        rest = np.setdiff1d(ctx.rest, firsts)
        return _alternate(firsts, ctx.rng.choice(rest, batch // 2, replace=False), batch)

    return pick


def cover50(ctx: Context, batch: int) -> np.ndarray:
    """k-means coverage all the way, as the app asks: a queue of 50, the first `batch` rated."""
    rest = ctx.rest
    seed = int(ctx.rng.integers(2**31))
    idx = kmeans_cover(ctx.x[ctx.rated], ctx.x[rest], max(batch, ctx.queue_len), seed=seed)
    idx = idx[:batch]
    if len(idx) < batch:
        others = np.setdiff1d(np.arange(len(rest)), idx)
        idx = np.concatenate([idx, ctx.rng.choice(others, batch - len(idx), replace=False)])
    return rest[idx.astype(int)]


def q40(ctx: Context, batch: int) -> np.ndarray:  # noqa: F811 (now the app's queue length)
    """The shipped queue with coverage for the first 40 ratings instead of 20."""
    if len(ctx.rated) < 40 or np.ptp(ctx.y[ctx.rated]) == 0:
        return cover50(ctx, batch)
    return shipped(ctx, batch)


RULES |= {
    "fl": fl,
    "flr": _fl_then(20, True),
    "flr40": _fl_then(40, True),
    "cover50": cover50,
    "q40": q40,
}


def facility_sq(x_rated: np.ndarray, x_cand: np.ndarray, top_k: int) -> np.ndarray:
    """facility() on squared distances (the k-means objective, greedy)."""
    return facility(x_rated, x_cand, top_k, power=2)


def fl2r(ctx: Context, batch: int) -> np.ndarray:
    """Squared-distance facility location; after the cold start alternated with random."""
    rest = ctx.rest
    if len(ctx.rated) < COLD or np.ptp(ctx.y[ctx.rated]) == 0:
        return rest[facility_sq(ctx.x[ctx.rated], ctx.x[rest], batch)]
    firsts = rest[facility_sq(ctx.x[ctx.rated], ctx.x[rest], batch - batch // 2)]
    others = np.setdiff1d(rest, firsts)
    return _alternate(firsts, ctx.rng.choice(others, batch // 2, replace=False), batch)


def flr2(ctx: Context, batch: int) -> np.ndarray:
    """flr with two facility picks to one random after the cold start (F F R F F R ...)."""
    if len(ctx.rated) < COLD or np.ptp(ctx.y[ctx.rated]) == 0:
        return fl(ctx, batch)
    # The app's queue of 50 would read F F R F F R ...; at its refresh point the rated
    # share is what counts: 2 of every 3, taken from the running count.
    n_random = sum(1 for i in range(len(ctx.rated), len(ctx.rated) + batch) if i % 3 == 2)
    firsts = fl(ctx, batch - n_random)
    others = np.setdiff1d(ctx.rest, firsts)
    return np.concatenate([firsts, ctx.rng.choice(others, n_random, replace=False)])


RULES |= {"fl2r": fl2r, "flr2": flr2}


def fl2(ctx: Context, batch: int) -> np.ndarray:
    """Squared-distance facility location all the way."""
    rest = ctx.rest
    return rest[facility_sq(ctx.x[ctx.rated], ctx.x[rest], batch)]


RULES |= {"fl2": fl2, "prev": prev}


def fl2w(ctx: Context, batch: int) -> np.ndarray:
    """fl2 in the whitened principal space of the library (every direction of variation
    weighs the same, as for a model that may need any of them)."""
    if "white" not in ctx.cache:
        xc = ctx.x - ctx.x.mean(0)
        vals, vecs = np.linalg.eigh(xc.T @ xc / len(xc))
        ctx.cache["white"] = xc @ vecs / np.sqrt(vals + vals.max() * 1e-3)
    w = ctx.cache["white"]
    rest = ctx.rest
    return rest[facility_sq(w[ctx.rated], w[rest], batch)]


RULES |= {"fl2w": fl2w}


def _fl2_then(start: int, share: str):
    """fl2 for the first `start` ratings, then fl2 and random in turn ("half") or random only
    ("all"): the ratings drift back towards the library's own shape once it is covered."""

    def pick(ctx: Context, batch: int) -> np.ndarray:
        if len(ctx.rated) < start or np.ptp(ctx.y[ctx.rated]) == 0:
            return fl2(ctx, batch)
        if share == "all":
            return random_rule(ctx, batch)
        return fl2r(ctx, batch)

    return pick


RULES |= {"fl2r40": _fl2_then(40, "half"), "fl2rand60": _fl2_then(60, "all")}
