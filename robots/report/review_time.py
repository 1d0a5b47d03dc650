"""Review time where it was spent: a run's minutes shared among its forms by the work done.

A reviewer records one time per correction sheet, and one sheet holds every form of the run.
Spread evenly, a handwritten form with ten fields to key and a printed form with one field to
check would look alike. So each field the reviewer works on counts as a unit of one kind —

- ``flagged``: a field read by the machine and flagged (look at the crop, maybe correct it),
- ``proposed``: a value proposed from reference data (confirm it, or type over it),
- ``keyed``: a handwritten word the product never reads (key it from the crop) —

and a run's minutes go to its documents in proportion to Σ rate(kind) × units. The rates
(minutes per field of each kind) are measured: a least-squares fit, non-negative, of the
recorded minutes of the runs that have them against their units (``fitted``). With fewer such
runs than kinds to tell apart, the configured proportions are kept and scaled to the recorded
total (``scaled``); with no recorded time at all they are the configured assumption
(``configured``). A run of one form needs no rates: its minutes are that form's, measured.
A reviewed run without a recorded time is estimated as Σ rate × units, and labelled so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from robots.config.evaluation import EvaluationConfig
from robots.report.data import DocRow, FieldRow, ImportRow, RunRow
from robots.report.figures import FormTime, ReviewRates, TimeFigures

__all__ = ["WORK_KINDS", "WORK_KIND_JA", "attribute_review_time", "fit_rates", "nonneg_lstsq",
           "rates_text", "work_units"]

#: What a reviewer does with a field, each timed by its own rate.
WORK_KINDS = ("flagged", "proposed", "keyed")
#: Their Japanese names on the page.
WORK_KIND_JA = {"flagged": "要確認の項目", "proposed": "提案の確認", "keyed": "手入力の項目"}


def work_units(fields: Iterable[FieldRow]) -> dict[str, int]:
    """The fields of a document (or run) the reviewer had to work on, by kind."""
    units = dict.fromkeys(WORK_KINDS, 0)
    for f in fields:
        if f.kind in ("proposed", "keyed"):
            units[f.kind] += 1
        elif f.flagged:
            units["flagged"] += 1
    return units


def nonneg_lstsq(rows: Sequence[Sequence[float]], target: Sequence[float]) -> list[float] | None:
    """Non-negative least squares for a few unknowns, or None when they cannot be told apart.

    With at most three unknowns every subset of them is solved by ordinary least squares and
    the best solution without a negative rate kept (the exact NNLS answer, without SciPy).
    """
    a = np.asarray(rows, dtype=float)
    y = np.asarray(target, dtype=float)
    n = a.shape[1]
    if a.shape[0] < n or np.linalg.matrix_rank(a) < n:
        return None
    best: tuple[float, np.ndarray] | None = None
    for mask in range(1, 1 << n):
        cols = [j for j in range(n) if mask >> j & 1]
        x, *_ = np.linalg.lstsq(a[:, cols], y, rcond=None)
        if (x < -1e-9).any():
            continue
        full = np.zeros(n)
        full[cols] = np.clip(x, 0.0, None)
        residual = float(((a @ full - y) ** 2).sum())
        if best is None or residual < best[0] - 1e-9:
            best = (residual, full)
    return None if best is None else [float(v) for v in best[1]]


def fit_rates(measured: Sequence[tuple[str, float, Mapping[str, int]]],
              cfg: EvaluationConfig) -> ReviewRates:
    """Minutes per field of each kind from (run, recorded minutes, units) of timed runs."""
    assumed = {k: s / 60 for k, s in cfg.review_seconds.items()}
    usable = [(r, m, u) for r, m, u in measured if any(u.values())]
    kinds = [k for k in WORK_KINDS if any(u[k] for _, _, u in usable)]
    if not kinds:
        return ReviewRates(assumed, "configured", assumed=WORK_KINDS)
    runs = tuple(r for r, _, _ in usable)
    x = nonneg_lstsq([[u[k] for k in kinds] for _, _, u in usable], [m for _, m, _ in usable])
    if x is not None and sum(x) > 0:
        return ReviewRates({**assumed, **dict(zip(kinds, x, strict=True))}, "fitted", runs,
                           tuple(k for k in WORK_KINDS if k not in kinds))
    scale = (sum(m for _, m, _ in usable)
             / sum(assumed[k] * u[k] for _, _, u in usable for k in WORK_KINDS))
    return ReviewRates({k: v * scale for k, v in assumed.items()}, "scaled", runs, WORK_KINDS)


def _seconds(rates: ReviewRates, kinds: Sequence[str]) -> str:
    return "・".join(f"{WORK_KIND_JA[k]} {rates.minutes[k] * 60:.0f}秒" for k in kinds)


def rates_text(rates: ReviewRates, kinds: Sequence[str] = WORK_KINDS) -> str:
    """How the rates of ``kinds`` (those in use) were obtained, in Japanese, for the page."""
    kinds = [k for k in WORK_KINDS if k in kinds] or list(WORK_KINDS)
    if rates.source == "fitted":
        text = (f"確認時間の記録がある{len(rates.runs)}回の実行から求めた1項目あたりの時間"
                f"（{_seconds(rates, kinds)}）")
        assumed = [k for k in kinds if k in rates.assumed]
        if assumed:
            text += ("。ただし" + "・".join(WORK_KIND_JA[k] for k in assumed)
                     + "は記録のある実行になかったため設定の仮定値")
        return text
    if rates.source == "scaled":
        return (f"確認時間の記録がある{len(rates.runs)}回の実行の合計を、設定の仮定の比率で"
                f"項目の種類に分けた1項目あたりの時間（{_seconds(rates, kinds)}。種類ごとの"
                "実測には記録のある実行がもっと必要です）")
    return f"設定の仮定値（{_seconds(rates, kinds)}、1項目あたり。実測ではありません）"


def attribute_review_time(t: TimeFigures, cfg: EvaluationConfig, runs: Sequence[RunRow],
                          docs: Sequence[DocRow], fields: Mapping[str, list[FieldRow]],
                          imports: Sequence[ImportRow]) -> dict[str, float]:
    """Fill ``t`` with the review time of ``docs``; return the minutes per kind of work.

    ``t.by_form`` is keyed by form already; ``docs`` are the scanned documents (rows of data
    files are not on a correction sheet).
    """
    kind_minutes = dict.fromkeys(WORK_KINDS, 0.0)
    docs_of: dict[str, list[DocRow]] = {r.run_id: [] for r in runs}
    for d in docs:
        docs_of[d.run_id].append(d)
    units = {d.doc_id: work_units(fields.get(d.doc_id, [])) for d in docs}
    run_units = {r: {k: sum(units[d.doc_id][k] for d in ds) for k in WORK_KINDS}
                 for r, ds in docs_of.items()}
    recorded: dict[str, float] = {}
    for r in runs:
        if not docs_of[r.run_id]:
            continue
        mine = [i for i in imports if i.run_id == r.run_id]
        minutes = [i.review_minutes for i in mine if i.review_minutes is not None]
        if not mine:
            t.unreviewed_runs.append(r.run_id)
        elif minutes:
            t.measured_runs.append(r.run_id)
            recorded[r.run_id] = sum(minutes)
        else:
            t.estimated_runs.append(r.run_id)
    rates = fit_rates([(r, recorded[r], run_units[r]) for r in t.measured_runs], cfg)
    t.rates = rates
    reviewed = [*t.measured_runs, *t.estimated_runs]
    t.kinds_used = tuple(k for k in WORK_KINDS if any(run_units[r][k] for r in reviewed))
    if t.estimated_runs:
        t.estimate_minutes_per_flag = rates.minutes["flagged"]
        t.estimate_method = (f"確認時間の記入がなかった{len(t.estimated_runs)}回の実行は、"
                             f"{rates_text(rates, t.kinds_used)} × 項目数で推定しました。")
    for run_id in reviewed:
        ds = docs_of[run_id]
        weights = {d.doc_id: sum(rates.minutes[k] * units[d.doc_id][k] for k in WORK_KINDS)
                   for d in ds}
        total = sum(weights.values())
        minutes = recorded.get(run_id)
        if minutes is None:
            minutes = total
            t.estimated_minutes += minutes
        else:
            t.measured_minutes += minutes
        if total:
            for k in WORK_KINDS:
                kind_minutes[k] += minutes * rates.minutes[k] * run_units[run_id][k] / total
        else:
            t.unattributed_minutes += minutes
        single = len({d.form_id for d in ds}) == 1
        for d in ds:
            share = minutes * weights[d.doc_id] / total if total else minutes / len(ds)
            ft: FormTime = t.by_form[d.form_id]
            ft.documents += 1
            ft.review_minutes += share
            source = ("estimated" if run_id not in recorded else "measured" if single
                      else "attributed")
            setattr(ft, f"{source}_minutes", getattr(ft, f"{source}_minutes") + share)
            ft.sources.add(source)
            if run_id not in ft.runs:
                ft.runs.append(run_id)
    return kind_minutes
