"""A copy or another moment: the pixel evidence, read on the 256-pixel thumbnails.

The 32-pixel rendition (verify.py) says two pictures look alike; it cannot tell a re-encode from
a burst whose subject moved a few percent, from a pan, or from the same scene with one region
changed. Here the pair is registered at up to 128 pixels (a scale and a shift per axis, fitted
by Gauss-Newton from coarse to fine, each step weighted so that a region that differs does not
pull the fit), with one gain and offset per channel, and what is left says which it is:

- a copy leaves a residual that is small and even (compression, resampling, a global tone
  change): no block of the picture differs much more than the rest;
- another moment leaves structure: a block that differs (a subject that moved, a region blurred
  or painted over, a frame of an animation), or new content at one side: a crop is a part of the
  other picture, so when each picture holds content the other lacks (one side in, the other
  out), it is a pan, not a crop.

Only pairs the rendition verified as "same" or "edited" come here, a few per library, so the
cost (a few milliseconds a pair) never shows at scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

# The look's version: bump it when a change here changes what `compare` returns for some pair
# (looks.py remembers results per pair under it; a digest of this file is added there too).
VERSION = 1
GRID = 128  # the longest side the pair is compared at
BLOCKS = 8  # the residual is read in BLOCKS x BLOCKS blocks
# A block whose mean residual (0..255) exceeds PEAK_RATIO x the median block plus a floor is
# structure, not noise. The floor grows for small pictures (an icon compared at 16 pixels has
# edges resampled by uneven factors): PEAK at 128 pixels, up to SMALL_PEAK at 16.
PEAK_RATIO = 2.5
PEAK = 2.5
SMALL_PEAK = 12.0
FLAT_PEAK = 6.0  # low-detail pictures: no registration, no tone fit, and every block this close
SCENE_NOISE = 8.0  # the median block after registration: below it, one scene (a series)
SCENE_SHIFT = 0.15  # ... and neither frame sticks out of the other by more than this
MOVE = 2  # grid pixels a part of one frame may move in the other and leave one scene
MOVE_SIDE = 32  # ... read on frames at least this many grid pixels a side (not icons)
SLIP = 0.5  # grid pixels of registration error forgiven: a residual it explains at an edge
EDGE = 0.006  # a frame may stick out of the other by this share of its side (registration error)
STEPS = 8  # Gauss-Newton steps per level
FIT_STRIDE = 3  # the tone fit reads every third pixel of a large overlap
QUICK_STEPS = 3  # ... at the finest level alone, for a pair of one shape (see compare)
QUICK_ASPECT = 0.01  # |log| of the ratio of the two aspect ratios: "one shape"


@dataclass(frozen=True)
class Moment:
    """What the thumbnails say of a pair: a copy (an edit at most) or another moment."""

    copy: bool
    why: str  # for another moment, in words: "subject moved or region changed", "pan ..."
    peak: float  # the largest block residual after registration (0..255)
    noise: float  # the median block residual
    shift: float  # the larger share of a side one frame sticks out of the other
    scene: bool = True  # registered as one scene (a copy, or a series: another moment of it)


def _grey(pixels: np.ndarray) -> np.ndarray:
    """Luma of channel-first pixels (3 x H x W)."""
    grey: np.ndarray = pixels[0] * 0.299 + pixels[1] * 0.587 + pixels[2] * 0.114
    return grey


def _resized(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """The picture at `size`, channel first (3 x H x W): each channel's pixels in one run, so
    the sums and fits below read memory in order."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    pixels = np.asarray(rgb.resize(size, Image.Resampling.BOX))
    return np.ascontiguousarray(pixels.transpose(2, 0, 1), np.float32)


def _span(held: np.ndarray) -> slice | np.ndarray:
    """The positions held, as a slice when they run without a gap (a window inside a frame)."""
    at = np.flatnonzero(held)
    if at.size and at[-1] - at[0] + 1 == at.size:
        return slice(int(at[0]), int(at[-1]) + 1)
    return at


def _cut(img: np.ndarray, rows: slice | np.ndarray, columns: slice | np.ndarray) -> np.ndarray:
    """The rows x columns window of img (... x H x W)."""
    cut: np.ndarray = img[..., rows, :][..., columns]
    return cut


def _sample(
    img: np.ndarray, ys: np.ndarray, xs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear samples (float32) of img (H x W, or C x H x W) on the grid of pixel-centre
    coordinates ys (rows) x xs (columns), with the masks of the rows and of the columns
    inside the picture (the points inside are their outer product). The warp is a scale and a
    shift per axis, so the sampling is separable: each row read is interpolated along x once,
    then the rows along y."""
    h, w = img.shape[-2:]
    fx, fy = xs - 0.5, ys - 0.5
    rows_in, columns_in = (fy >= -0.5) & (fy <= h - 0.5), (fx >= -0.5) & (fx <= w - 0.5)
    fx, fy = np.clip(fx, 0, w - 1), np.clip(fy, 0, h - 1)
    x0 = np.minimum(fx.astype(np.intp), w - 2 if w > 1 else 0)
    y0 = np.minimum(fy.astype(np.intp), h - 2 if h > 1 else 0)
    x1 = x0 + (x0 + 1 <= w - 1).astype(np.intp)  # x0 where the picture is one pixel wide
    y1 = y0 + (y0 + 1 <= h - 1).astype(np.intp)
    ax, ay = (fx - x0).astype(np.float32), (fy - y0).astype(np.float32)[:, None]
    rows = np.union1d(y0, y1)  # the rows read: interpolated along x once each
    at = np.zeros(h, np.intp)
    at[rows] = np.arange(len(rows))
    part = img[..., rows, :]
    along_x = part[..., x0] * (1 - ax) + part[..., x1] * ax
    sampled: np.ndarray = along_x[..., at[y0], :] * (1 - ay) + along_x[..., at[y1], :] * ay
    return sampled, rows_in, columns_in


def _blur(img: np.ndarray) -> np.ndarray:
    """A 1-2-1 blur along the last two axes (rows, columns), the edges repeated."""
    out = img
    for axis in (-2, -1):
        n = out.shape[axis]
        pad = np.concatenate([out.take([0], axis), out, out.take([n - 1], axis)], axis=axis)
        if axis == -2:
            lo, mid, hi = pad[..., :n, :], pad[..., 1 : n + 1, :], pad[..., 2 : n + 2, :]
        else:
            lo, mid, hi = pad[..., :n], pad[..., 1 : n + 1], pad[..., 2 : n + 2]
        out = (lo + hi + (mid + mid)) * 0.25
    return out


def _median(values: np.ndarray) -> np.ndarray:
    """np.median along the last axis of a C x N array (one partition per row, the two middle
    values averaged for an even N)."""
    n = values.shape[-1]
    half = n // 2
    kth = [half - 1, half] if n % 2 == 0 else [half]
    out = np.empty(values.shape[0])
    for c, row in enumerate(values):
        part = np.partition(row, kth)
        out[c] = (part[half - 1] + part[half]) / 2 if n % 2 == 0 else part[half]
    return out


def _line_fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """(gain, offset) minimising sum((weight * (gain * x + offset - y))^2)."""
    gain, offset = _line_fits(x[None], y[None], weight[None])
    return float(gain[0]), float(offset[0])


def _line_fits(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of C x N arrays, (gain, offset) minimising the weighted squares as _line_fit,
    from the 2 x 2 normal equations. Sums, not BLAS: on a loaded small machine a threaded BLAS
    call on a few thousand numbers costs a hundred times the arithmetic."""
    w2 = weight * weight
    wx = w2 * x
    sxx, sx, s1 = (wx * x).sum(axis=1), wx.sum(axis=1), w2.sum(axis=1)
    sxy, sy = (wx * y).sum(axis=1), (w2 * y).sum(axis=1)
    sxx, sx, s1, sxy, sy = (v.astype(np.float64) for v in (sxx, sx, s1, sxy, sy))
    det = sxx * s1 - sx * sx
    flat = np.abs(det) <= 1e-9 * np.maximum(1.0, sxx * s1)  # x constant: the least-norm fit
    safe = np.where(flat, 1.0, det)
    gain, offset = (s1 * sxy - sx * sy) / safe, (sxx * sy - sx * sxy) / safe
    for c in np.flatnonzero(flat):
        normal = np.array([[sxx[c], sx[c]], [sx[c], s1[c]]])
        rhs = np.array([sxy[c], sy[c]])
        gain[c], offset[c] = np.linalg.lstsq(normal, rhs, rcond=None)[0]
    return gain, offset


def _register(
    big: np.ndarray, small: np.ndarray, params: np.ndarray, steps: int = STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """Refine (sx, tx, sy, ty), mapping small's pixel coordinates into big's (both grey, one
    grid), and return it with the last robust weights."""
    gh, gw = small.shape
    row, column = np.arange(gh, dtype=np.float32) + 0.5, np.arange(gw, dtype=np.float32) + 0.5
    gy, gx = np.gradient(big)
    layers = np.stack([big, gx, gy])  # sampled together: one gather, three values
    weights = np.ones(small.shape, np.float32)
    for _ in range(steps):
        sx, tx, sy, ty = (float(v) for v in params)
        sampled, rows_in, columns_in = _sample(layers, sy * row + ty, sx * column + tx)
        rows, columns = _span(rows_in), _span(columns_in)
        n_rows, n_columns = int(rows_in.sum()), int(columns_in.sum())
        if n_rows * n_columns < 16:
            break
        warped, dx, dy = _cut(sampled, rows, columns).reshape(3, -1)
        target = _cut(small, rows, columns).ravel()
        gain, offset = _line_fit(warped, target, _cut(weights, rows, columns).ravel())
        residual = gain * warped + offset - target
        scale = max(1.5 * float(_median(np.abs(residual)[None])[0]), 1.0)
        w = 1.0 / (1.0 + (residual / scale) ** 2)
        weights = np.zeros(small.shape, np.float32)
        weights[np.ix_(np.flatnonzero(rows_in), np.flatnonzero(columns_in))] = w.reshape(
            n_rows, n_columns
        )
        gdx, gdy = gain * dx, gain * dy
        xs, ys = np.tile(column[columns], n_rows), np.repeat(row[rows], n_columns)
        jac = np.stack([gdx * xs, gdx, gdy * ys, gdy])  # 4 x N
        jw = jac * w
        normal = (jw[:, None, :] * jac[None, :, :]).sum(axis=2)  # jw @ jac.T, without BLAS
        rhs = -(jw * residual).sum(axis=1)
        step = np.linalg.solve(normal.astype(np.float64) + 1e-3 * np.eye(4), rhs)
        params = params + step
        if np.abs(step[[1, 3]]).max() < 0.01 and np.abs(step[[0, 2]]).max() < 1e-4:
            break
    return params, weights


def _levels(width: int, height: int) -> list[tuple[int, int]]:
    longest = min(GRID, max(width, height))
    sizes = []
    side = longest
    while side >= 12:
        scale = side / max(width, height)
        sizes.append((max(4, round(width * scale)), max(4, round(height * scale))))
        side //= 2
    return sizes[::-1] or [(max(4, width), max(4, height))]


def compare(first: Image.Image, second: Image.Image, *, flat: bool = False) -> Moment:
    """Is `second` a copy of `first` (an edit at most), or another moment? See the module
    docstring. `flat`: pictures with little detail, compared without a tone fit."""
    big, small = (
        (first, second)
        if first.width * first.height >= second.width * second.height
        else (second, first)
    )
    levels = _levels(*small.size)
    if flat:  # nothing to register on: compared frame to frame
        return _look(big, small, levels[-1:], flat=True)
    # Most pairs that come here are copies of one shape (re-encoded, resized): registered at
    # the level below the finest alone (a quarter of the pixels), from where they lie, and read
    # at the finest, a few steps say so. Only a copy is taken
    # from this quick look (a pan or a moved subject it misreads shows as more residual, not
    # less); anything else is looked at again from coarse to fine. An icon (one level) is
    # always registered in full: a few pixels' misregistration is all its structure.
    aspect = abs(np.log((big.width * small.height) / max(1, big.height * small.width)))
    if aspect <= QUICK_ASPECT and len(levels) > 1:
        quick = _look(big, small, levels[-2:], flat=False, steps=QUICK_STEPS, register_last=False)
        if quick.copy:
            return quick
    return _look(big, small, levels, flat=False)


def _look(
    big: Image.Image,
    small: Image.Image,
    levels: list[tuple[int, int]],
    *,
    flat: bool,
    steps: int = STEPS,
    register_last: bool = True,
) -> Moment:
    """The pair registered over `levels` (coarse to fine; the finest too if register_last)
    and read at the finest."""
    params = np.array([1.0, 0.0, 1.0, 0.0], np.float64)
    previous: tuple[int, int] | None = None
    weights = np.ones(1)
    target = colour_big = colour_small = None
    for size in levels:
        if previous is not None:
            fx, fy = size[0] / previous[0], size[1] / previous[1]
            params = np.array([params[0], params[1] * fx, params[2], params[3] * fy])
        colour_small = _resized(small, size)
        colour_big = _resized(big, size)
        if not flat and (register_last or size != levels[-1]):
            target = _blur(_grey(colour_small))
            params, weights = _register(_blur(_grey(colour_big)), target, params, steps)
        previous = size
    assert colour_small is not None and colour_big is not None
    gw, gh = previous or levels[-1]
    sx, tx, sy, ty = (float(v) for v in params)
    # Where small's frame lies in big's, per axis, as shares of big's side.
    spans = ((tx / gw, (sx * gw + tx) / gw), (ty / gh, (sy * gh + ty) / gh))
    edge = max(EDGE, 0.75 / min(gw, gh))
    inside = all(lo >= -edge and hi <= 1 + edge for lo, hi in spans)
    covers = all(lo <= edge and hi >= 1 - edge for lo, hi in spans)
    shift = max(max(-lo, hi - 1, lo, 1 - hi) for lo, hi in spans)
    peak, noise = _read(colour_big, colour_small, params, flat)
    if noise > SCENE_NOISE and shift <= SCENE_SHIFT and not flat and min(gw, gh) >= MOVE_SIDE:
        # Not one scene as registered; one scene where its parts moved a little?
        noise_moved = min(noise, _moved_noise(colour_big, colour_small, params))
    else:
        noise_moved = noise
    scene = noise_moved <= SCENE_NOISE and shift <= SCENE_SHIFT
    if not (inside or covers):
        why = f"new content at the {_side(spans)}: a pan, not a crop"
        return Moment(False, why, peak, noise, shift, scene)
    side = min(gw, gh)
    floor = PEAK + (SMALL_PEAK - PEAK) * min(1.0, max(0.0, (GRID - side) / (GRID - 16)))
    limit = FLAT_PEAK if flat else PEAK_RATIO * noise + floor
    if peak > limit:
        why = "a region differs: a subject moved or a part changed"
        return Moment(False, why, peak, noise, shift, scene)
    return Moment(True, "", peak, noise, shift, scene)


def _read(
    colour_big: np.ndarray, colour_small: np.ndarray, params: np.ndarray, flat: bool
) -> tuple[float, float]:
    """(largest, median) block residual of small against big warped by params (one grid)."""
    gh, gw = colour_small.shape[-2:]
    sx, tx, sy, ty = (float(v) for v in params)
    row, column = np.arange(gh, dtype=np.float32) + 0.5, np.arange(gw, dtype=np.float32) + 0.5
    # Read a little coarser than registered: resampling moves an edge by a fraction of a pixel,
    # a subject that moved or a changed region stays.
    warped, rows_in, columns_in = _sample(_blur(colour_big), sy * row + ty, sx * column + tx)
    seen = _blur(colour_small)
    # The blurs read past a frame's edge as its edge repeated: the outer pixels do not count.
    margin = 3 if min(gw, gh) >= 32 else 1
    for held in (rows_in, columns_in):
        held[:margin], held[-margin:] = False, False
    valid = rows_in[:, None] & columns_in[None, :]
    diff = _residual(warped, seen, rows_in, columns_in, flat)
    # What a registration off by SLIP pixels explains at an edge both pictures have is not
    # structure (an edge one of them lost, a blurred region, still counts).
    edges = np.minimum(*(np.hypot(*np.gradient(_grey(p))) for p in (seen, warped)))
    diff = np.maximum(0.0, diff - SLIP * edges)
    return _blocks(diff, valid)


def _residual(
    warped: np.ndarray, seen: np.ndarray, rows_in: np.ndarray, columns_in: np.ndarray, flat: bool
) -> np.ndarray:
    """Per pixel (H x W), the largest channel difference left after a robust gain and offset
    per channel (none for flat pictures: their colour is all they have), over the window of
    rows x columns inside (zero outside)."""
    out = np.zeros(seen.shape[-2:], np.float32)
    n_rows, n_columns = int(rows_in.sum()), int(columns_in.sum())
    if not n_rows * n_columns:
        return out
    rows, columns = _span(rows_in), _span(columns_in)
    x_all = _cut(warped, rows, columns).reshape(3, -1)
    seen_in = _cut(seen, rows, columns).reshape(3, -1)
    if flat:
        diff = np.abs(x_all - seen_in).max(axis=0)
    else:
        gain, offset = _tone_fit(x_all, seen_in)
        fitted = np.clip(gain * x_all + offset, 0, 255)
        diff = np.abs(fitted - seen_in).max(axis=0)
    out[np.ix_(np.flatnonzero(rows_in), np.flatnonzero(columns_in))] = diff.reshape(
        n_rows, n_columns
    )
    return out


def _tone_fit(x_all: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A robust (gain, offset) per channel (3 x 1 each) taking x_all to seen (3 x N). The
    three channels are fitted side by side, on every FIT_STRIDE-th pixel (a tone curve of two
    numbers per channel needs a few thousand points, not every one)."""
    stride = FIT_STRIDE if x_all.shape[1] >= 4096 else 1  # an icon: every pixel
    x, y = x_all[:, ::stride], seen[:, ::stride]
    weight = np.ones_like(x)
    for _ in range(3):
        gain, offset = _line_fits(x, y, weight)
        gain, offset = gain[:, None].astype(np.float32), offset[:, None].astype(np.float32)
        r = gain * x + offset - y
        scale = np.maximum(1.5 * _median(np.abs(r)), 1.0)[:, None].astype(np.float32)
        weight = 1.0 / (1.0 + (r / scale) ** 2)
    return gain, offset


def _moved_noise(colour_big: np.ndarray, colour_small: np.ndarray, params: np.ndarray) -> float:
    """The median block residual when each block of small may have moved by up to MOVE grid
    pixels against big: what the one registration (a scale and a shift per axis) leaves where
    a subject moved or turned everywhere in the frame (an animation's globe, a crowd), which is
    another moment of one scene, while a different scene is found nowhere near."""
    gh, gw = colour_small.shape[-2:]
    sx, tx, sy, ty = (float(v) for v in params)
    row, column = np.arange(gh, dtype=np.float32) + 0.5, np.arange(gw, dtype=np.float32) + 0.5
    warped, rows_in, columns_in = _sample(_blur(colour_big), sy * row + ty, sx * column + tx)
    seen = _blur(colour_small)
    margin = 3 + MOVE  # the blurs' edge, and room to move without wrapping round
    for held in (rows_in, columns_in):
        held[:margin], held[-margin:] = False, False
    if not (rows_in.any() and columns_in.any()):
        return float("inf")
    rows, columns = _span(rows_in), _span(columns_in)
    gain, offset = _tone_fit(
        _cut(warped, rows, columns).reshape(3, -1), _cut(seen, rows, columns).reshape(3, -1)
    )
    fitted = np.clip(gain[:, :, None] * warped + offset[:, :, None], 0, 255)
    valid = rows_in[:, None] & columns_in[None, :]
    edges_seen = np.hypot(*np.gradient(_grey(seen)))
    edges_fitted = np.hypot(*np.gradient(_grey(fitted)))
    best: np.ndarray | None = None
    for dy in range(-MOVE, MOVE + 1):
        for dx in range(-MOVE, MOVE + 1):
            moved = np.roll(fitted, (dy, dx), axis=(1, 2))
            edges = np.minimum(edges_seen, np.roll(edges_fitted, (dy, dx), axis=(0, 1)))
            diff = np.maximum(0.0, np.abs(moved - seen).max(axis=0) - SLIP * edges)
            means = _block_means(diff, valid)
            best = means if best is None else np.minimum(best, means)
    return float(np.median(best)) if best is not None and best.size else float("inf")


def _blocks(diff: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    """(largest, median) block mean of the residual over blocks mostly inside the overlap."""
    gh, gw = diff.shape
    if gh < BLOCKS or gw < BLOCKS:  # blocks of one pixel, some repeated
        return _blocks_small(diff, valid)
    means = _block_means(diff, valid)
    if not means.size:
        return 0.0, 0.0
    return float(means.max()), float(np.median(means))


def _block_means(diff: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The mean residual of each of the BLOCKS x BLOCKS blocks mostly inside the overlap."""
    gh, gw = diff.shape
    starts_y = [by * gh // BLOCKS for by in range(BLOCKS)]
    starts_x = [bx * gw // BLOCKS for bx in range(BLOCKS)]
    inside = valid.astype(np.float64)
    sums = np.add.reduceat(np.add.reduceat(diff * inside, starts_y, 0), starts_x, 1)
    counts = np.add.reduceat(np.add.reduceat(inside, starts_y, 0), starts_x, 1)
    area = np.outer(np.diff([*starts_y, gh]), np.diff([*starts_x, gw]))
    held = counts >= 0.5 * area
    means: np.ndarray = sums[held] / counts[held]
    return means


def _blocks_small(diff: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    gh, gw = diff.shape
    means = []
    for by in range(BLOCKS):
        for bx in range(BLOCKS):
            ys = slice(by * gh // BLOCKS, max(by * gh // BLOCKS + 1, (by + 1) * gh // BLOCKS))
            xs = slice(bx * gw // BLOCKS, max(bx * gw // BLOCKS + 1, (bx + 1) * gw // BLOCKS))
            inside = valid[ys, xs]
            if inside.mean() >= 0.5:
                means.append(float(diff[ys, xs][inside].mean()))
    if not means:
        return 0.0, 0.0
    return max(means), float(np.median(means))


def _side(spans: tuple[tuple[float, float], tuple[float, float]]) -> str:
    """The side where one frame sticks out of the other the most."""
    (x0, x1), (y0, y1) = spans
    out = {"left": abs(x0), "right": abs(x1 - 1), "top": abs(y0), "bottom": abs(y1 - 1)}
    return max(out, key=lambda k: out[k])
