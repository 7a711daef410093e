"""Ridge's alpha is chosen by leave-one-out error; the closed form must equal refitting."""

from __future__ import annotations

import numpy as np
import pytest

from anagnorisis_tui.core.evaluator import regressors


def _refit_loo(x: np.ndarray, y: np.ndarray, alpha: float) -> float:
    """Leave-one-out error by refitting ridge (centred, with its intercept) n times."""
    errors = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        xm, ym = x[keep].mean(axis=0), y[keep].mean()
        xc = (x[keep] - xm).astype(np.float64)
        coef = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y[keep] - ym))
        errors.append((y[i] - ((x[i] - xm) @ coef + ym)) ** 2)
    return float(np.mean(errors))


@pytest.mark.parametrize("rows", [30, 100])
@pytest.mark.slow
def test_leave_one_out_error_equals_refitting(rows):
    # Fewer ratings than vector dimensions (30 < 64) is every library's start: there the
    # closed form once left out the intercept, called interpolating the ratings perfect and
    # always chose the smallest alpha.
    rng = np.random.default_rng(rows)
    x = rng.normal(size=(rows, 64)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = (5 + 4 * x[:, 0] + rng.normal(0, 1, rows)).astype(np.float32)
    model = regressors.fit_ridge(x, y)
    refit = [_refit_loo(x, y, float(a)) for a in regressors.RIDGE_ALPHAS]
    np.testing.assert_allclose(model.curve["validation"], refit, rtol=1e-3)
    chosen = float(model.arrays["alpha"][0])
    assert chosen == pytest.approx(regressors.RIDGE_ALPHAS[int(np.argmin(refit))], rel=1e-6)
    assert chosen > regressors.RIDGE_ALPHAS[0]
