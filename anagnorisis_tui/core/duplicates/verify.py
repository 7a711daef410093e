"""Verification of candidate duplicate pairs on a small colour rendition that respects alpha.

A perceptual hash only proposes pairs: it is grey, 64 bits, and blind to transparency, so
colour variants of one design, white shapes on transparency and flat pictures collide in it.
Every proposed pair is checked here before it may join a duplicate group.

The rendition is 32 x 32 pixels, four channels: red, green and blue premultiplied by alpha (a
transparent pixel's hidden colour does not count), and alpha itself compared as a channel. It
is made from the same decode as the perceptual hash (orientation applied) and stored per
content hash (4 KiB), with the picture's displayed width and height.

The rule, per pair, gives the strongest tier both renditions support:
- "same": the same picture re-encoded, resized, recompressed, in another format or rotated by
  EXIF: equal proportions (within 3%) and renditions that agree pixel by pixel (mean and 98th
  percentile of the absolute difference under tight limits);
- "edited": a crop of up to ~10% (searched over crop boxes), brightness or contrast changed, a
  small colour shift: after the best crop box and one brightness/contrast fit shared by all
  channels plus a bounded offset per channel (fitted on pixels the edit did not clip, and
  predicting the clipping), the residual is under a limit, and the alpha channels agree;
- "similar": alike in structure (grey correlation) but not a copy: for browsing only;
- None: not alike.
A small picture (an icon) is compared at its own scale: both renditions are averaged down to
16 or 8 pixels first. Pictures with little detail (every channel of the rendition nearly
constant) only reach "similar" here; when their renditions agree without any fit, the verdict
says so (`flat_copy`) and the 256-pixel thumbnails decide (core/duplicates/moments.py).
The limits were measured on bench/hardset.py (BENCHMARKS.md, "Duplicates you can trust").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from anagnorisis_tui.core.duplicates.options import DUPLICATE_TIERS, TIERS

__all__ = ["DUPLICATE_TIERS", "TIERS", "Rendition", "Verdict", "rendition", "verify"]

SIDE = 32
CHANNELS = 4
RENDITION_BYTES = SIDE * SIDE * CHANNELS


# Limits on 0..255 differences, measured on bench/hardset.py.
SAME_MEAN = 6.0
SAME_P98 = 24.0
SAME_ASPECT = 0.03  # |log(aspect ratio)|
EDIT_MEAN = 8.0
EDIT_P98 = 24.0
EDIT_ASPECT = 0.13  # a 10% crop of one side only
ALPHA_P99 = 24.0  # 99.5th percentile of the alpha difference: a shape edge moved shows in it
SIMILAR_CORR = 0.85
PREFILTER_CORR = 0.3
LOW_DETAIL_STD = 6.0  # channel standard deviation of the rendition below which detail is "low"
MAX_GAIN = 1.35  # brightness/contrast: the fitted gain stays within [1/MAX_GAIN, MAX_GAIN]
MAX_SHIFT = 14.0  # per-channel offset left after the shared fit (a small colour shift)
CLIPPED = 3.0  # a channel this close to 0 or 255 may have been clipped by the edit
SMALL_SLACK = 1.5
ALIGNED_CORR = 0.9  # grey correlation after the best crop box
EXPLAINED = 0.6  # the edit must cut the difference to this share of what it was before
CROP_STEPS = (0.0, 0.025, 0.05, 0.075, 0.1)  # crop fractions searched, per dimension


@dataclass(frozen=True)
class Rendition:
    pixels: np.ndarray  # SIDE x SIDE x 4 float32, 0..255
    width: int
    height: int

    @property
    def aspect(self) -> float:
        return self.width / max(1, self.height)

    @property
    def detail(self) -> float:
        """The largest standard deviation over the four channels: a pink square on cyan has
        little grey contrast but plenty of colour."""
        return float(self.pixels.reshape(-1, CHANNELS).std(axis=0).max())

    @property
    def low_detail(self) -> bool:
        return self.detail < LOW_DETAIL_STD


def rendition(image: Image.Image) -> bytes:
    """The rendition of a decoded image (orientation already applied): SIDE*SIDE*4 bytes."""
    if image.mode != "RGBA":
        if (
            "A" in image.getbands()
            or "transparency" in image.info
            or image.mode in ("P", "LA", "PA")
        ):
            image = image.convert("RGBA")
        else:
            image = image.convert("RGB").convert("RGBA")
    # Premultiply before resampling, so hidden colours of transparent pixels never bleed in.
    premultiplied = image.convert("RGBa")
    small = premultiplied.resize(
        (SIDE, SIDE), Image.Resampling.BOX if min(image.size) >= SIDE else Image.Resampling.BICUBIC
    )
    return np.asarray(small, dtype=np.uint8).tobytes()


def from_bytes(data: bytes, width: int, height: int) -> Rendition:
    pixels = np.frombuffer(data, dtype=np.uint8).reshape(SIDE, SIDE, CHANNELS).astype(np.float32)
    return Rendition(pixels, int(width), int(height))


def of_image(image: Image.Image) -> Rendition:
    return from_bytes(rendition(image), image.width, image.height)


def _grey(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., 0] * 0.299 + pixels[..., 1] * 0.587 + pixels[..., 2] * 0.114


HALF = SIDE // 2


def interp(begin: float, end: float) -> np.ndarray:
    """SIDE x SIDE bilinear resampling of the span [begin, end) of a SIDE-wide axis."""
    out = np.zeros((SIDE, SIDE), np.float32)
    taps = (begin + (np.arange(SIDE) + 0.5) / SIDE * (end - begin)) * SIDE - 0.5
    taps = np.clip(taps, 0, SIDE - 1)
    lo = np.floor(taps).astype(int)
    hi = np.minimum(lo + 1, SIDE - 1)
    frac = (taps - lo).astype(np.float32)
    np.add.at(out, (np.arange(SIDE), lo), 1 - frac)
    np.add.at(out, (np.arange(SIDE), hi), frac)
    return out


def _blur() -> np.ndarray:
    out = np.zeros((SIDE, SIDE), np.float32)
    for i in range(SIDE):
        for j, w in ((i - 1, 0.25), (i, 0.5), (i + 1, 0.25)):
            out[i, min(max(j, 0), SIDE - 1)] += w
    return out


def _shrink(factor: int) -> np.ndarray:
    out = np.zeros((SIDE // factor, SIDE), np.float32)
    out[np.arange(SIDE) // factor, np.arange(SIDE)] = 1.0 / factor
    return out


def _factor(a: Rendition, b: Rendition) -> int:
    """1, or 2 or 4 when the smaller picture is not much larger than the rendition: it was
    resampled into it by a small, uneven factor, or enlarged, and both are compared at the
    smaller picture's scale, where that stops mattering (an icon under 64 pixels at 8 x 8:
    a 48-pixel one resampled by 1.5 into the rendition still has uneven edges at 16 x 16)."""
    smallest = min(a.width, a.height, b.width, b.height)
    return 4 if smallest < 2 * SIDE else 2 if smallest < 4 * SIDE else 1


@lru_cache(maxsize=3)
def _boxes(factor: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(resampling matrix per crop box and axis, what each cuts, the plain sampler).

    Each box is resampled bilinearly and then blurred by a 3-tap kernel (or halved, for
    pictures smaller than the rendition); the other picture goes through the same blur, so
    the difference measures content rather than resampling."""
    sampler = _shrink(factor) if factor > 1 else _blur()
    mats, cuts = [], []
    for crop in CROP_STEPS:
        for pos in (0.0, 0.5, 1.0) if crop else (0.0,):
            begin = crop * pos
            mats.append(sampler @ interp(begin, begin + 1 - crop))
            cuts.append(crop)
    return np.stack(mats), np.array(cuts), sampler


@dataclass(frozen=True)
class Verdict:
    tier: str | None  # "same", "edited", "similar" or None
    mean: float  # mean absolute colour difference after alignment (0..255)
    p98: float  # its 98th percentile
    crop: float  # the larger cut of one side's length in the best alignment (0..1)
    gain: float  # brightness/contrast factor fitted (1.0: none)
    low_detail: bool
    corr: float = 1.0  # grey correlation of the two renditions
    flat_copy: bool = False  # little detail, but equal here without any fit: the thumbnails decide


def _residual(
    a: np.ndarray, b: np.ndarray, fit: bool, *, tails: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(mean, p98, gain, alpha p99.5) per view of b against views a (K x S x S x 4).

    The colour difference of a pixel is its largest over the three channels. With `fit`, one
    gain/offset shared by the colour channels and a bounded offset per channel are fitted
    first (brightness, contrast, a small colour shift); colour variants of one design differ
    by far more than the bounded offset, so they stay apart. Without `tails` only the mean is
    computed (the percentiles are zeros): the cheap pass of the crop search."""
    k = a.shape[0]
    ca = a[..., :3].reshape(k, -1, 3)
    cb = b[..., :3].reshape(1, -1, 3)
    gain = np.ones(k, np.float32)
    if fit:
        # Pixels the edit drove into black or white (a brightened sky) say nothing of the
        # gain: the fit uses the others, and its prediction is clipped as the edit was.
        ga, gb = ca.mean(axis=2), cb.mean(axis=2)
        inside = ((cb > CLIPPED) & (cb < 255 - CLIPPED)).all(axis=2).astype(np.float32)
        inside = np.broadcast_to(inside, ga.shape)
        count = np.maximum(inside.sum(axis=1, keepdims=True), 1.0)
        ma = (ga * inside).sum(axis=1, keepdims=True) / count
        mb = (gb * inside).sum(axis=1, keepdims=True) / count
        da, db = (ga - ma) * inside, (gb - mb) * inside
        va = (da * da).sum(axis=1) / count[:, 0]
        cov = (da * db).sum(axis=1) / count[:, 0]
        gain = np.where(va > 1e-6, cov / np.maximum(va, 1e-6), 1.0)
        gain = np.clip(gain, 1 / MAX_GAIN, MAX_GAIN).astype(np.float32)
        fitted = ca * gain[:, None, None]
        weight = inside[..., None]
        shift = ((cb - fitted) * weight).sum(axis=1) / count  # K x 3
        common = np.median(shift, axis=1, keepdims=True)
        shift = common + np.clip(shift - common, -MAX_SHIFT, MAX_SHIFT)
        predicted = np.clip(fitted + shift[:, None, :], 0.0, 255.0)
        diff = np.abs(cb - predicted).max(axis=2)
    else:
        diff = np.abs(cb - ca).max(axis=2)
    if not tails:
        zeros = np.zeros(k, np.float32)
        return diff.mean(axis=1), zeros, gain, zeros
    alpha = np.abs(a[..., 3] - b[None, ..., 3]).reshape(k, -1)
    return (
        diff.mean(axis=1),
        np.percentile(diff, 98, axis=1),
        gain,
        np.percentile(alpha, 99.5, axis=1),
    )


def _sample(pixels: np.ndarray, mat_y: np.ndarray, mat_x: np.ndarray) -> np.ndarray:
    """Batched mat_y @ pixels @ mat_x.T per channel: K x S x S x 4."""
    rows = (mat_y @ pixels.reshape(SIDE, SIDE * CHANNELS)).reshape(len(mat_y), -1, SIDE, CHANNELS)
    views = np.matmul(rows.transpose(0, 1, 3, 2), mat_x.transpose(0, 2, 1)[:, None])
    return np.asarray(views.transpose(0, 1, 3, 2))


def verify(a: Rendition, b: Rendition) -> Verdict:
    """The tier the pair's renditions support (see the module docstring)."""
    low = a.low_detail or b.low_detail
    factor = _factor(a, b)
    aspect = abs(np.log(a.aspect / b.aspect))
    ga, gb = _grey(a.pixels).ravel(), _grey(b.pixels).ravel()
    corr = _corr(ga, gb)
    if factor > 1:
        _, _, sampler = _boxes(factor)
        pa, pb = (_sample(r.pixels, sampler[None], sampler[None]) for r in (a, b))
    else:
        pa, pb = a.pixels[None], b.pixels[None]
    mean, p98, _, alpha = (float(v[0]) for v in _residual(pa, pb[0], False))
    # Edges of a small picture (an icon) were resampled by an uneven factor: they get more
    # room, measured on icons written at 16 to 256 pixels; the mean stays as strict.
    slack = SMALL_SLACK if factor > 1 else 1.0
    if (
        aspect <= SAME_ASPECT
        and mean <= SAME_MEAN
        and p98 <= SAME_P98 * slack
        and alpha <= ALPHA_P99 * slack
    ):
        if low:  # "similar" here; the thumbnails may show it is a copy (moments.py)
            return Verdict("similar", mean, p98, 0.0, 1.0, low, corr, flat_copy=True)
        return Verdict("same", mean, p98, 0.0, 1.0, low, corr)
    best: tuple[float, ...] = (np.inf, np.inf, 1.0, np.inf, 0.0, 0.0, np.inf)
    # A crop of up to 10% still correlates well with the whole at this size; most distinct
    # pairs do not, and skip the crop search.
    if not low and aspect <= EDIT_ASPECT and corr >= PREFILTER_CORR:
        best = _best_crop(a, b, factor)
        # An edit must explain the difference: after the crop and the fit the pictures agree in
        # structure, and far better than before (two screenshots of one window with other
        # text agree about as well either way: their difference is content, not an edit).
        explained = best[0] <= EXPLAINED * best[6]
        if (
            best[0] <= EDIT_MEAN
            and best[1] <= EDIT_P98
            and best[3] <= ALPHA_P99
            and best[5] >= ALIGNED_CORR
            and explained
        ):
            return Verdict("edited", best[0], best[1], best[4], best[2], low, corr)
    tier = "similar" if corr >= SIMILAR_CORR and alpha <= 4 * ALPHA_P99 and not low else None
    return Verdict(tier, min(mean, best[0]), min(p98, best[1]), best[4], best[2], low, corr)


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    sx, sy = x.std(), y.std()
    if sx < 1e-6 or sy < 1e-6:
        return 1.0 if sx < 1e-6 and sy < 1e-6 else 0.0
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy))


def _best_crop(a: Rendition, b: Rendition, factor: int) -> tuple[float, ...]:
    """(mean, p98, gain, alpha p99, cut, grey correlation, mean before alignment) of the best
    alignment of one rendition as a crop of the other, searched both ways over the boxes."""
    mats, cuts, sampler = _boxes(factor)
    keep = 1 - cuts
    best = (np.inf, np.inf, 1.0, np.inf, 0.0, 0.0, np.inf)
    for big, small in ((a, b), (b, a)):
        # Proportions constrain the boxes: cutting x from the width and y from the height
        # turns the big aspect into big * (1 - x) / (1 - y), which must be the small one.
        ratio = small.aspect / big.aspect
        fit = np.abs(np.log(keep[None, :] / keep[:, None] / ratio)) <= SAME_ASPECT
        iy, ix = np.nonzero(fit)  # [y box, x box]
        if not len(iy):
            continue
        views = _sample(big.pixels, mats[iy], mats[ix])
        target = _sample(small.pixels, sampler[None], sampler[None])[0]
        mean, _, _, _ = _residual(views, target, True, tails=False)
        at = int(np.argmin(mean))
        if mean[at] < best[0]:
            one = _residual(views[at : at + 1], target, True)
            cut = float(max(cuts[ix[at]], cuts[iy[at]]))
            aligned = _corr(_grey(views[at]).ravel(), _grey(target).ravel())
            plain = _sample(big.pixels, sampler[None], sampler[None])
            unexplained = float(_residual(plain, target, False, tails=False)[0][0])
            mean_at, p98_at, gain_at, alpha_at = (float(v[0]) for v in one)
            best = (mean_at, p98_at, gain_at, alpha_at, cut, aligned, unexplained)
    return best
