"""The candidate rating models of the personal evaluator, in numpy.

Every model is a set of named float32 arrays plus a kind, so it saves to safetensors and predicts
with plain numpy: no pickle, no torch. Inputs are the L2-normalised image vectors.

- ridge: linear ridge regression, alpha picked by exact leave-one-out error.
- mlp: a small MLP regressor (one hidden ReLU layer, linear output on standardised ratings).
- softmax_mlp: the original Anagnorisis design: an MLP whose 11-way softmax over the ratings
  0..10 gives an expected rating, trained with MSE on that expectation. The original used hidden
  widths 768 and 256; we keep the shape (two ReLU layers, 11-way head) at 256 and 64 so it
  retrains in seconds on a weak CPU.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from anagnorisis_tui.core.base.progress import check

KINDS = ("ridge", "mlp", "softmax_mlp")
RATING_CLASSES = np.arange(11, dtype=np.float32)
RIDGE_ALPHAS = np.logspace(-3, 3, 13)


@dataclass
class FittedModel:
    kind: str
    arrays: dict[str, np.ndarray]
    # "train" and "validation" mean squared error at each point of curve_x, for plots:
    # per epoch (neural models; validation on the inner early-stopping split) or per ridge
    # alpha (training error and leave-one-out error).
    curve: dict[str, list[float]] = field(default_factory=dict)
    curve_x: list[float] = field(default_factory=list)
    curve_label: str = ""

    def predict(self, x: np.ndarray) -> np.ndarray:
        return predict(self.kind, self.arrays, x)


def predict(
    kind: str, arrays: dict[str, np.ndarray], x: np.ndarray, batch: int = 16384
) -> np.ndarray:
    """Predicted ratings (clipped to 0..10) for the rows of x, computed in batches."""
    x = np.asarray(x, dtype=np.float32)
    out = np.empty(len(x), dtype=np.float32)
    for start in range(0, len(x), batch):
        out[start : start + batch] = _predict_batch(kind, arrays, x[start : start + batch])
    return np.clip(out, 0.0, 10.0)


def _predict_batch(kind: str, a: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    if kind == "ridge":
        return np.asarray((x - a["x_mean"]) @ a["coef"] + a["intercept"][0])
    return _forward(kind, a, ((x - a["x_mean"]) @ a["proj"]) * a["x_scale"][0])


def _forward(kind: str, a: dict[str, np.ndarray], h: np.ndarray) -> np.ndarray:
    """Network output (ratings) from projected, scaled inputs h."""
    layers = sum(1 for k in a if k.startswith("W"))
    for i in range(layers - 1):
        h = np.maximum(h @ a[f"W{i}"] + a[f"b{i}"], 0.0)
    z = h @ a[f"W{layers - 1}"] + a[f"b{layers - 1}"]
    if kind == "mlp":
        return np.asarray(z[:, 0] * a["y_std"][0] + a["y_mean"][0])
    if kind == "softmax_mlp":
        return _softmax(z) @ RATING_CLASSES
    raise ValueError(f"unknown evaluator kind {kind!r}")


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


# -- ridge -------------------------------------------------------------------------------------
def _spectrum(xc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eigenvalues, eigenvectors V, projections Q = xc V) of xc'xc, largest first."""
    n, dim = xc.shape
    if n >= dim:
        # float32 products (the costly part), float64 eigendecomposition (the delicate part).
        x32 = np.asarray(xc, np.float32)
        lam, vecs = np.linalg.eigh((x32.T @ x32).astype(np.float64))
        lam, vecs = lam[::-1], vecs[:, ::-1]
        return np.maximum(lam, 0.0), vecs, (x32 @ vecs.astype(np.float32)).astype(np.float64)
    u, sv, vt = np.linalg.svd(np.asarray(xc, np.float64), full_matrices=False)
    return sv**2, vt.T, u * sv


def fit_ridge(x: np.ndarray, y: np.ndarray) -> FittedModel:
    """Ridge regression; alpha chosen by exact leave-one-out error (closed form per alpha)."""
    x_mean = x.mean(axis=0)
    xc = (x - x_mean).astype(np.float32)
    yc = y.astype(np.float64) - float(y.mean())
    lam, vecs, q = _spectrum(xc)
    qy = q.T @ yc
    q2 = q**2
    loo_mse, train_mse = [], []
    for alpha in RIDGE_ALPHAS:
        f = 1.0 / (lam + alpha)
        resid = yc - q @ (f * qy)
        # The intercept is fitted too (the ratings' mean): its 1/n belongs in every leverage.
        # Without it a fit that interpolates the ratings looks perfect whenever there are fewer
        # ratings than vector dimensions, and the smallest alpha always wins.
        leverage = np.minimum(1.0 / len(yc) + q2 @ f, 1.0 - 1e-9)
        loo_mse.append(float(np.mean((resid / (1.0 - leverage)) ** 2)))
        train_mse.append(float(np.mean(resid**2)))
    best = int(np.argmin(loo_mse))
    alpha = float(RIDGE_ALPHAS[best])
    coef = vecs @ (qy / (lam + alpha))
    arrays = {
        "x_mean": x_mean.astype(np.float32),
        "coef": coef.astype(np.float32),
        "intercept": np.array([y.mean()], dtype=np.float32),
        "alpha": np.array([alpha], dtype=np.float32),
    }
    curve = {"train": train_mse, "validation": loo_mse}
    alphas = [float(a) for a in RIDGE_ALPHAS]
    return FittedModel("ridge", arrays, curve, alphas, "ridge alpha (log scale)")


# -- MLPs (numpy, Adam, early stopping) -----------------------------------------------------------
@dataclass(frozen=True)
class MLPConfig:
    hidden: tuple[int, ...]
    components: int = 128  # principal components fed to the network
    weight_decay: float = 1e-4
    lr: float = 1e-3
    max_epochs: int = 150
    patience: int = 10
    max_steps: int = 2000  # caps work for big rating sets (time grows with n otherwise)


CONFIGS = {
    "mlp": MLPConfig(hidden=(128,), weight_decay=1e-3),
    "softmax_mlp": MLPConfig(hidden=(256, 64), weight_decay=1e-4),
}


def fit_mlp(
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    cancel: threading.Event | None = None,
    on_epoch: Callable[[int, int], None] | None = None,
    config: MLPConfig | None = None,
) -> FittedModel:
    """Fit `mlp` or `softmax_mlp` with Adam; early stopping on an inner validation split."""
    return _fit_mlp(kind, x, y, seed=seed, cancel=cancel, on_epoch=on_epoch, config=config)


def _fit_mlp(
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    cancel: threading.Event | None,
    on_epoch: Callable[[int, int], None] | None,
    config: MLPConfig | None = None,
) -> FittedModel:
    cfg = config or CONFIGS[kind]
    rng = np.random.default_rng(seed)
    n = len(x)
    # Inputs: the top principal components of the rated vectors, scaled to unit average
    # variance. Fewer inputs make each step several times cheaper and regularise small sets.
    x_mean = x.mean(axis=0).astype(np.float32)
    lam, vecs, _ = _spectrum(x - x_mean)
    k = int(min(cfg.components, len(lam), max(1, n - 1)))
    proj = vecs[:, :k].astype(np.float32)
    x_scale = np.float32(1.0 / np.sqrt(max(float(lam[:k].mean()) / n, 1e-12)))
    xs = (((x - x_mean) @ proj) * x_scale).astype(np.float32)
    dim = k
    y = y.astype(np.float32)
    y_mean, y_std = float(y.mean()), float(y.std()) or 1.0

    order = rng.permutation(n)
    n_val = int(round(0.15 * n)) if n >= 20 else 0
    val, tr = order[:n_val], order[n_val:]
    sizes = [dim, *cfg.hidden, 1 if kind == "mlp" else len(RATING_CLASSES)]
    params: dict[str, np.ndarray] = {}
    for i in range(len(sizes) - 1):
        bound = np.sqrt(6.0 / (sizes[i] + sizes[i + 1]))  # Glorot uniform
        params[f"W{i}"] = rng.uniform(-bound, bound, (sizes[i], sizes[i + 1])).astype(np.float32)
        params[f"b{i}"] = np.zeros(sizes[i + 1], dtype=np.float32)
    if kind == "softmax_mlp":
        # Start at the mean rating (not 5): a softmax peaked around it, so early epochs fit shape.
        params[f"b{len(sizes) - 2}"] = (-0.5 * (RATING_CLASSES - y_mean) ** 2 / 4.0).astype(
            np.float32
        )
    extra = {
        "x_mean": x_mean,
        "proj": proj,
        "x_scale": np.array([x_scale], dtype=np.float32),
        "y_mean": np.array([y_mean], dtype=np.float32),
        "y_std": np.array([y_std], dtype=np.float32),
    }
    adam_m = {k: np.zeros_like(v) for k, v in params.items()}
    adam_v = {k: np.zeros_like(v) for k, v in params.items()}
    batch = int(np.clip(len(tr) // 8, 16, 256))
    steps_per_epoch = max(1, int(np.ceil(len(tr) / batch)))
    max_epochs = max(10, min(cfg.max_epochs, cfg.max_steps // steps_per_epoch))
    best, best_loss, waited, step = None, np.inf, 0, 0
    curve: dict[str, list[float]] = {"train": [], "validation": []}

    def mse(idx: np.ndarray) -> float:
        pred = np.clip(_forward(kind, {**params, **extra}, xs[idx]), 0.0, 10.0)
        return float(np.mean((pred - y[idx]) ** 2))

    for epoch in range(max_epochs):
        check(cancel)
        perm = tr[rng.permutation(len(tr))]
        for start in range(0, len(perm), batch):
            idx = perm[start : start + batch]
            grads = _gradients(kind, params, xs[idx], y[idx], y_mean, y_std)
            step += 1
            for name, g in grads.items():
                g = g + cfg.weight_decay * params[name] if name.startswith("W") else g
                adam_m[name] = 0.9 * adam_m[name] + 0.1 * g
                adam_v[name] = 0.999 * adam_v[name] + 0.001 * g * g
                m_hat = adam_m[name] / (1 - 0.9**step)
                v_hat = adam_v[name] / (1 - 0.999**step)
                params[name] -= (cfg.lr * m_hat / (np.sqrt(v_hat) + 1e-8)).astype(np.float32)
        curve["train"].append(mse(tr))
        if n_val:
            val_loss = mse(val)
            curve["validation"].append(val_loss)
            if val_loss < best_loss - 1e-6:
                best, best_loss, waited = {k: v.copy() for k, v in params.items()}, val_loss, 0
            else:
                waited += 1
                if waited >= cfg.patience:
                    break
        if on_epoch:
            on_epoch(epoch + 1, max_epochs)
    if best is not None:
        params = best
    epochs = [float(e + 1) for e in range(len(curve["train"]))]
    if not curve["validation"]:
        del curve["validation"]  # too few ratings for an early-stopping split
    return FittedModel(kind, {**params, **extra}, curve, epochs, "epoch")


def _gradients(
    kind: str, p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, y_mean: float, y_std: float
) -> dict[str, np.ndarray]:
    layers = sum(1 for k in p if k.startswith("W"))
    acts = [x]
    for i in range(layers - 1):
        acts.append(np.maximum(acts[-1] @ p[f"W{i}"] + p[f"b{i}"], 0.0))
    z = acts[-1] @ p[f"W{layers - 1}"] + p[f"b{layers - 1}"]
    n = len(x)
    if kind == "mlp":
        # MSE on standardised ratings: the same optimum, better conditioned.
        dz = (2.0 / n) * (z[:, 0] - (y - y_mean) / y_std)[:, None]
    else:
        probs = _softmax(z)
        expected = probs @ RATING_CLASSES
        d_expected = (2.0 / n) * (expected - y) / 10.0  # /10: gradients on the scale of the mlp
        dz = d_expected[:, None] * probs * (RATING_CLASSES[None, :] - expected[:, None])
    grads: dict[str, np.ndarray] = {}
    for i in range(layers - 1, -1, -1):
        grads[f"W{i}"] = acts[i].T @ dz
        grads[f"b{i}"] = dz.sum(axis=0)
        if i:
            dz = (dz @ p[f"W{i}"].T) * (acts[i] > 0)
    return grads


def fit(
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    cancel: threading.Event | None = None,
    on_epoch: Callable[[int, int], None] | None = None,
) -> FittedModel:
    from threadpoolctl import threadpool_limits

    if kind != "ridge" and kind not in CONFIGS:
        raise ValueError(f"unknown evaluator kind {kind!r}")
    # One BLAS thread: the products are small, threads fight on a busy NAS CPU (measured 2-3x
    # slower under load), and the result is then the same on every machine.
    with threadpool_limits(1, "blas"):
        if kind == "ridge":
            return fit_ridge(x, y)
        return fit_mlp(kind, x, y, seed=seed, cancel=cancel, on_epoch=on_epoch)
