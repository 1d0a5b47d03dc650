"""Identify which form a page is and where exactly each of its boxes lies.

Identification reads the QR code printed on our forms (its payload names the form); a page
without one is tried against every template and the best coarse registration wins.

Registration is coarse-to-fine. The coarse homography comes from the QR code's four corners,
or from ORB feature matches on a 100-dpi copy; either also undoes quarter turns and skew.
It is then refined on anchors — the corners of the form's printed boxes — each located by
template matching in a small window at 150 dpi, and a homography fitted to those points with
RANSAC. The result is scored by how much of the blank form's printed ink is found where it
should be: a page that does not score is reported, never guessed.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from dataclasses import dataclass

import cv2
import numpy as np

from ocr._stats import percentile_u8
from ocr.errors import RegistrationError
from ocr.render import blank_image
from ocr.templates import FieldType, FormTemplate, TemplateLibrary

__all__ = ["FRAME_DPI", "MIN_SCORE", "AlignedPage", "Aligner", "read_qr",
           "registration_anchors"]

log = logging.getLogger(__name__)

FRAME_DPI = 300.0  # every registered page is resampled to this resolution
COARSE_DPI = 100.0  # ORB features and scoring
FINE_DPI = 150.0  # anchor refinement
MIN_SCORE = 0.55  # below this share of the form's printed ink found, registration failed
_ANCHOR_HALF = 20  # anchor patch half-size at FINE_DPI (≈ 6.8 mm wide)
_SEARCH = 18  # search radius at FINE_DPI (≈ 3 mm): how wrong the coarse step may be
_QR_RE = re.compile(r"^misato-form:([a-z][a-z0-9_]*):v(\d+)$")


@dataclass(slots=True)
class AlignedPage:
    """A page resampled into its template's frame at :data:`FRAME_DPI`."""

    template: FormTemplate
    image: np.ndarray  # grayscale, exactly template.page_px(FRAME_DPI)
    score: float
    identified_by: str  # "qr" | "registration" | "given"
    rotation: int  # nearest quarter turn the scan was rotated by (0, 90, 180, 270)
    skew: float  # remaining small angle in degrees
    homography: np.ndarray  # page pixels → frame pixels
    anchors_used: int = 0


def _scale(k: float) -> np.ndarray:
    return np.diag([k, k, 1.0])


@functools.cache
def _orb() -> cv2.ORB:
    return cv2.ORB_create(nfeatures=2500, scaleFactor=1.2, nlevels=6, fastThreshold=12)


def _features(gray_small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kps, des = _orb().detectAndCompute(gray_small, None)
    pts = np.array([k.pt for k in kps], dtype=np.float32).reshape(-1, 2)
    return pts, (des if des is not None else np.zeros((0, 32), np.uint8))


@dataclass(frozen=True, slots=True)
class _TemplateModel:
    coarse: np.ndarray  # blank at COARSE_DPI
    ink: np.ndarray  # blank's ink at COARSE_DPI (uint8 0/1), for scoring
    points: np.ndarray  # ORB keypoints at COARSE_DPI
    descriptors: np.ndarray
    fine: np.ndarray  # blank at FINE_DPI, lightly blurred
    anchors: np.ndarray  # Kx2 anchor centres at FINE_DPI
    qr: np.ndarray | None  # QR corners at COARSE_DPI


@functools.lru_cache(maxsize=64)
def _model(template: FormTemplate) -> _TemplateModel:
    coarse = blank_image(template, COARSE_DPI)
    pts, des = _features(coarse)
    fine = cv2.GaussianBlur(blank_image(template, FINE_DPI), (3, 3), 0)
    qr = read_qr(blank_image(template, FRAME_DPI), FRAME_DPI)
    qr_pts = None if qr is None else (qr[1] * (COARSE_DPI / FRAME_DPI)).astype(np.float32)
    return _TemplateModel(coarse, (coarse < 160).astype(np.uint8), pts, des, fine,
                          _anchor_points(template, fine), qr_pts)


def _anchor_points(template: FormTemplate, fine: np.ndarray) -> np.ndarray:
    """Box corners that make good anchors: structure in both directions, spread over the page.

    Only the printed frame is used (label cells and value boxes), never the inside of a value
    box, so what a resident writes cannot pull the registration.
    """
    k = FINE_DPI / 25.4
    cand: list[tuple[float, float]] = []
    for f in template.fields:
        x, y, w, h = f.box
        boxes = [(x, y, w, h)]
        if f.type is not FieldType.CHECKBOX and f.label_width > 0:
            boxes.append((x - f.label_width, y, f.label_width, h))
        for bx, by, bw, bh in boxes:
            cand += [(bx, by), (bx + bw, by), (bx, by + bh), (bx + bw, by + bh)]
    pts = np.array(cand, dtype=np.float32) * k
    h, w = fine.shape
    r = _ANCHOR_HALF + _SEARCH + 1
    inside = (pts[:, 0] > r) & (pts[:, 0] < w - r) & (pts[:, 1] > r) & (pts[:, 1] < h - r)
    pts = np.unique(np.round(pts[inside]), axis=0)
    # Keep corners whose patch has strong gradients both ways (not a point on a lone line).
    gx = cv2.Sobel(fine.astype(np.float32), cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(fine.astype(np.float32), cv2.CV_32F, 0, 1)
    good = []
    for px, py in pts.astype(int):
        sl = np.s_[py - _ANCHOR_HALF:py + _ANCHOR_HALF, px - _ANCHOR_HALF:px + _ANCHOR_HALF]
        sx, sy = float(np.abs(gx[sl]).sum()), float(np.abs(gy[sl]).sum())
        if min(sx, sy) > 0.25 * max(sx, sy) and min(sx, sy) > 2e4:
            good.append((px, py))
    chosen = _spread(np.array(good, dtype=np.float32).reshape(-1, 2), 48)
    log.debug("template %s: %d anchors", template.id, len(chosen))
    return chosen


def registration_anchors(template: FormTemplate) -> np.ndarray:
    """The box corners registration refines on, in mm from the page's top-left (Kx2).

    ``rpa forms check --overlay`` draws them: a template whose boxes sit off the printed
    lines of its blank gets few anchors, and its pages register badly.
    """
    return _model(template).anchors * (25.4 / FINE_DPI)


def _spread(points: np.ndarray, n: int) -> np.ndarray:
    """Greedy farthest-point choice of ``n`` points, so anchors cover the whole page."""
    if len(points) <= n:
        return points
    chosen = [int(np.argmin(points[:, 0] + points[:, 1]))]
    dist = np.linalg.norm(points - points[chosen[0]], axis=1)
    while len(chosen) < n:
        i = int(np.argmax(dist))
        chosen.append(i)
        dist = np.minimum(dist, np.linalg.norm(points - points[i], axis=1))
    return points[chosen]


@functools.cache
def _qr_detectors() -> tuple[cv2.QRCodeDetector, cv2.QRCodeDetectorAruco]:
    return cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()


def cut_scale(full: int, small: int) -> float:
    """Full-resolution pixels per pixel of a shrunk region."""
    return full / small if small else 1.0


def read_qr(gray: np.ndarray, dpi: float) -> tuple[str, np.ndarray] | None:
    """Decode a form QR code: its payload and its four corners in page pixels, or None.

    Our forms carry the code near a corner; the page may be turned, so only the corner regions
    are searched (at 200 dpi), which is several times faster than the whole page. The two
    OpenCV decoders fail on different scans, so both are tried.
    """
    f = min(1.0, 200.0 / dpi)
    page_h, page_w = gray.shape[:2]
    side, short = int(max(page_w, page_h) * 0.26), int(max(page_w, page_h) * 0.2)
    regions = []
    right, bottom = page_w - side, page_h - short
    for x0, y0 in ((right, 0), (0, bottom), (0, 0), (right, bottom)):
        regions += [(x0, y0, side, short), (x0, y0, short, side)]  # portrait, landscape
    small: dict[tuple[int, int, int, int], tuple[np.ndarray, float, float]] = {}  # each corner once
    for det in _qr_detectors():
        for x0, y0, rw, rh in regions:
            x0, y0 = max(0, min(x0, page_w - rw)), max(0, min(y0, page_h - rh))
            key = (x0, y0, rw, rh)
            if key not in small:  # only the corners are shrunk, never the whole page
                cut = gray[y0:y0 + rh, x0:x0 + rw]
                g = cut if f == 1.0 else cv2.resize(cut, None, fx=f, fy=f,
                                                    interpolation=cv2.INTER_AREA)
                small[key] = (g, cut_scale(cut.shape[1], g.shape[1]),
                              cut_scale(cut.shape[0], g.shape[0]))
            g, sx, sy = small[key]
            try:
                payload, pts, _ = det.detectAndDecode(g)
            except cv2.error:
                continue
            if payload and pts is not None and _QR_RE.match(payload):
                corners = pts.reshape(4, 2) * np.array([sx, sy], dtype=np.float32)
                return payload, corners + np.array([x0, y0], dtype=np.float32)
    return None


def _score(warped_coarse: np.ndarray, template_ink: np.ndarray) -> float:
    """Share of the blank form's printed ink that is also ink on the registered page."""
    thr = min(170, int(percentile_u8(warped_coarse, 50)) - 40)
    page_ink = cv2.dilate((warped_coarse < thr).astype(np.uint8), np.ones((3, 3), np.uint8))
    total = int(template_ink.sum())
    return float((page_ink & template_ink).sum()) / total if total else 0.0


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
    """Rotation + scale + shift from the QR corners.

    A decoder's corners are not exact enough for a full perspective fit; the anchors take
    care of the rest.
    """
    m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    return None if m is None else np.vstack([m, [0.0, 0.0, 1.0]])


def _orb_homography(page_pts: np.ndarray, page_des: np.ndarray,
                    model: _TemplateModel) -> np.ndarray | None:
    """Coarse homography page(COARSE) → template(COARSE) from ORB matches, or None."""
    if len(page_des) < 12 or len(model.descriptors) < 12:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(page_des, model.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < 12:
        return None
    src = page_pts[[m.queryIdx for m in good]]
    dst = model.points[[m.trainIdx for m in good]]
    h, mask = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 2.0, maxIters=4000,
                                 confidence=0.999)
    if h is None or mask is None or int(mask.sum()) < 12:
        return None
    return h


def _refine(gray: np.ndarray, dpi: float, h_coarse: np.ndarray,
            model: _TemplateModel) -> tuple[np.ndarray, int]:
    """Refine page(px) → template(COARSE) with anchor matching; returns (H, anchors used)."""
    to_fine = _scale(FINE_DPI / COARSE_DPI)
    h_page_fine = to_fine @ h_coarse @ _scale(1.0)
    fh, fw = model.fine.shape
    interp = cv2.INTER_AREA if dpi > FINE_DPI * 1.5 else cv2.INTER_LINEAR
    warped = cv2.warpPerspective(gray, h_page_fine, (fw, fh), flags=interp, borderValue=255)
    warped = cv2.GaussianBlur(warped, (3, 3), 0)
    src, dst = [], []
    a, s = _ANCHOR_HALF, _SEARCH
    for x, y in model.anchors.astype(int):
        tmpl = model.fine[y - a:y + a, x - a:x + a]
        region = warped[y - a - s:y + a + s, x - a - s:x + a + s]
        res = cv2.matchTemplate(region, tmpl, cv2.TM_CCOEFF_NORMED)
        _, peak, _, (mx, my) = cv2.minMaxLoc(res)
        if peak < 0.6:
            continue
        dx, dy = _subpixel(res, mx, my)
        src.append((x + mx + dx - s, y + my + dy - s))
        dst.append((x, y))
    if len(src) < 8:
        return h_coarse, 0
    h_fix, mask = cv2.findHomography(np.float32(src), np.float32(dst), cv2.RANSAC, 1.5)
    if h_fix is None or mask is None or int(mask.sum()) < 8:
        return h_coarse, 0
    refined = np.linalg.inv(to_fine) @ h_fix @ h_page_fine
    return refined, int(mask.sum())


def _subpixel(res: np.ndarray, x: int, y: int) -> tuple[float, float]:
    """Parabolic interpolation of a correlation peak."""
    def one(c: float, lo: float, hi: float) -> float:
        d = lo - 2 * c + hi
        return 0.0 if abs(d) < 1e-9 else 0.5 * (lo - hi) / d
    dx = one(res[y, x], res[y, x - 1], res[y, x + 1]) if 0 < x < res.shape[1] - 1 else 0.0
    dy = one(res[y, x], res[y - 1, x], res[y + 1, x]) if 0 < y < res.shape[0] - 1 else 0.0
    return dx, dy


class Aligner:
    """Identifies and registers pages against a library of templates."""

    def __init__(self, library: TemplateLibrary) -> None:
        self.library = library

    def align(self, gray: np.ndarray, dpi: float, *, form: str | None = None) -> AlignedPage:
        """Identify (unless ``form`` is given) and register one page, or raise.

        Raises :class:`RegistrationError` when no template matches well enough.
        """
        to_coarse = _scale(COARSE_DPI / dpi)
        small = cv2.resize(gray, None, fx=COARSE_DPI / dpi, fy=COARSE_DPI / dpi,
                           interpolation=cv2.INTER_AREA)
        coarse: list[tuple[float, FormTemplate, np.ndarray, str]] = []
        if form is None:
            qr = read_qr(gray, dpi)
            if qr is not None:
                form_id = _QR_RE.match(qr[0]).group(1)  # type: ignore[union-attr]
                if form_id in self.library:
                    t = self.library.get(form_id)
                    m = _model(t)
                    if m.qr is not None:
                        h = _similarity(qr[1] * (COARSE_DPI / dpi), m.qr)
                        if h is not None:
                            coarse.append((self._coarse_score(small, h, m), t, h, "qr"))
                else:
                    log.info("QR code names form %s, which is not in the library", form_id)
        if not coarse:
            page_pts, page_des = _features(small)
            cands = [self.library.get(form)] if form else list(self.library)
            for t in cands:
                m = _model(t)
                h = _orb_homography(page_pts, page_des, m)
                if h is not None:
                    coarse.append((self._coarse_score(small, h, m), t, h,
                                   "given" if form else "registration"))
        if not coarse:
            raise RegistrationError(
                "no form template could be matched to this page (is it one of: "
                f"{', '.join(self.library.ids)}?)")
        _, template, h_small, how = max(coarse, key=lambda c: c[0])
        model = _model(template)
        h_page_coarse, used = _refine(gray, dpi, h_small @ to_coarse, model)
        h_full = _scale(FRAME_DPI / COARSE_DPI) @ h_page_coarse
        interp = cv2.INTER_AREA if dpi > FRAME_DPI * 1.2 else cv2.INTER_LINEAR
        image = cv2.warpPerspective(gray, h_full, template.page_px(FRAME_DPI), flags=interp,
                                    borderValue=255)
        check = cv2.resize(image, (model.coarse.shape[1], model.coarse.shape[0]),
                           interpolation=cv2.INTER_AREA)
        score = _score(check, model.ink)
        log.debug("page registered on %s by %s: score %.3f, %d anchors", template.id, how,
                  score, used)
        if score < MIN_SCORE:
            raise RegistrationError(
                f"page does not match form {template.id} well enough (score {score:.2f}, "
                f"need {MIN_SCORE}); is it one of: {', '.join(self.library.ids)}?")
        angle = math.degrees(math.atan2(h_full[1, 0], h_full[0, 0]))
        rotation = round(-angle / 90.0) % 4 * 90
        skew = ((-angle - rotation) + 180.0) % 360.0 - 180.0
        return AlignedPage(template, image, score, how, rotation, skew, h_full, used)

    @staticmethod
    def _coarse_score(small: np.ndarray, h: np.ndarray, model: _TemplateModel) -> float:
        warped = cv2.warpPerspective(small, h, (model.coarse.shape[1], model.coarse.shape[0]),
                                     borderValue=255)
        return _score(warped, model.ink)
