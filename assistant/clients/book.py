"""Segment a whole book of retail clients into segments a manager can act on, with RFM and the matrix.

One call reads the book in chunks (book_io), screens risk and clusters the rest (book_clusters),
names each segment by what distinguishes it and recommends cited actions (book_actions), scores
RFM and the value-potential matrix (book_rfm), and writes the segmented file, summaries, charts
(book_charts) and a one-page report (book_report). The CLI's ``advisor segment``, the app's Book
tab and the ``/segment`` endpoint all call ``segment_book``.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from assistant.clients.book_actions import (
    BookActions,
    BookCiter,
    cite_recommendation,
    make_distinct,
    recommend,
    traits_for,
    unique_labels,
)
from assistant.clients.book_clusters import MIN_ROWS, Clustering, cluster_book
from assistant.clients.book_features import DESCRIBE, base_columns, deviations, readable_values
from assistant.clients.book_io import BookColumns, BookSource, read_features
from assistant.clients.book_models import BookReport, BookSettings, Progress, SegmentSummary, TierSummary
from assistant.clients.book_output import write_outputs
from assistant.clients.book_report import check_language
from assistant.clients.book_rfm import RfmResult, RfmSettings, place_in_matrix, score_rfm
from assistant.clients.rules import RuleBook
from assistant.errors import InputError

def value_tiers(aum: np.ndarray, rules: RuleBook) -> np.ndarray:
    """Tier id per client from the tier table (overdrawn balances count as zero AUM)."""
    bounds = np.array([t.min_aum_rmb for t in rules.tiers.tiers])
    ids = np.array([t.id for t in rules.tiers.tiers], dtype=object)
    return ids[np.searchsorted(bounds, np.maximum(aum, 0), side="right") - 1]


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Risk review first (1), then clusters by size, largest first."""
    clusters = pd.Series(labels[labels > 0]).value_counts().index.tolist()
    order = ([0] if (labels == 0).any() else []) + clusters
    mapping = np.zeros(max(order) + 1, dtype=np.int32)
    for new, old in enumerate(order, start=1):
        mapping[old] = new
    return mapping[labels]


def _segments(feats: pd.DataFrame, seg: np.ndarray, tiers: np.ndarray, rules: RuleBook, actions: BookActions,
              citer: BookCiter | None) -> list[SegmentSummary]:
    base = base_columns(feats)
    dev = deviations(base, seg)
    values = readable_values(feats, seg)
    ids = sorted(set(seg.tolist()))
    traits = [traits_for(dev.loc[s], actions) for s in ids]
    labels = unique_labels(traits)
    tier_order = [t.id for t in rules.tiers.tiers]
    mix = pd.crosstab(seg, tiers).reindex(index=ids, columns=tier_order, fill_value=0)
    recs = [recommend(traits[i], str(mix.loc[s].idxmax()), float(values.loc[s, "age"]), rules, actions) for i, s in enumerate(ids)]
    make_distinct(recs)
    if citer is not None:
        for i, s in enumerate(ids):
            cite_recommendation(recs[i], traits[i], str(mix.loc[s].idxmax()), rules, actions, citer)
        citer.resolve()
    out = []
    for i, s in enumerate(ids):
        mask = seg == s
        out.append(SegmentSummary(
            segment=int(s), label=labels[i], risk=recs[i].risk, clients=int(mask.sum()), share=round(float(mask.mean()), 4),
            main_tier=str(mix.loc[s].idxmax()), tier_mix={t: int(mix.loc[s, t]) for t in tier_order},
            mean_age=round(float(values.loc[s, "age"]), 1), median_aum_rmb=round(float(values.loc[s, "balance"]), 2),
            overdrawn_share=round(float(values.loc[s, "overdrawn"]), 4), distinguishing=traits[i],
            profile={k: round(float(v), 4) for k, v in values.loc[s].items()},
            deviation={k: round(float(v), 3) for k, v in dev.loc[s].items() if k in DESCRIBE},
            headline=recs[i].headline, service_model=recs[i].service_model, bundle=recs[i].bundle, actions=recs[i].actions))
    return out


def _tiers(feats: pd.DataFrame, tiers: np.ndarray, rules: RuleBook) -> list[TierSummary]:
    rows = []
    for tier in rules.tiers.tiers:
        mask = tiers == tier.id
        median = float(np.median(feats["aum_rmb"].to_numpy()[mask])) if mask.any() else 0.0
        rows.append(TierSummary(tier=tier.id, clients=int(mask.sum()), share=round(float(mask.mean()), 4),
                                median_aum_rmb=round(median, 2), service_model=tier.service_model))
    return rows


def _rfm(feats: pd.DataFrame, cols: BookColumns, actions: BookActions, settings: RfmSettings,
         citer: BookCiter | None) -> tuple[pd.DataFrame, RfmResult]:
    scores, result = score_rfm(feats, settings)
    mapped = cols.mapped()
    source = (f"column '{mapped['potential']}'" if "potential" in mapped else
              "proxy from " + ", ".join(k for k in ("occupation", "education") if k in mapped) + " and age (book_columns.yaml)")
    scores = place_in_matrix(feats, scores, result, source, settings)
    if "potential" in mapped:   # the same source as fields, for reports in other languages
        result.potential_column = mapped["potential"]
    else:
        result.potential_proxy = [k for k in ("occupation", "education") if k in mapped]
    for q in result.quadrants:
        play = actions.quadrants.get(q.quadrant)
        if play:
            q.name, q.strategy = play.name, play.strategy
            if citer is not None:
                citer.later(q, f"{play.name}: {play.strategy}", "mass-retail", actions.quadrant_doc)
    if citer is not None:
        citer.resolve()
    return scores, result


def segment_book(path: Path, rules: RuleBook, cols: BookColumns, out_dir: Path, seed: int = 7, *, actions: BookActions,
                 citer: BookCiter | None = None, settings: BookSettings | None = None, k: int | None = None,
                 progress: Progress | None = None, language: str = "en") -> BookReport:
    """Read, segment, recommend, score and write everything; ``progress(fraction, message)`` is told as it goes;
    ``language`` ("en" or "zh") is the DOCX report's, checked before any work."""
    language = check_language(language)
    started = time.perf_counter()
    settings = settings or BookSettings()
    tell = progress or (lambda fraction, message: None)
    source = BookSource(path, cols.delimiter, settings.limits)
    feats, rejects, total = read_features(source, cols, tell)
    if len(feats) < MIN_ROWS:
        raise InputError(f"{path.name}: only {len(feats)} usable rows (rejected {len(rejects)}); at least {MIN_ROWS} are needed")
    tell(0.35, f"clustering {len(feats):,} clients")
    labels, risk, clustering = cluster_book(feats, settings.clusters, seed, k)
    seg = _renumber(labels)
    tiers = value_tiers(feats["aum_rmb"].to_numpy(dtype=np.float64), rules)
    tell(0.6, "naming segments and citing actions")
    segments = _segments(feats, seg, tiers, rules, actions, citer)
    scores, rfm = _rfm(feats, cols, actions, settings.rfm, citer)
    if "quadrant" in scores:
        for s in segments:
            s.quadrants = {str(q): int(n) for q, n in scores["quadrant"][seg == s.segment].value_counts().items()}
    chosen = clustering.chosen
    report = BookReport(rows=total, segmented=len(feats), rejected=len(rejects), k=clustering.k, silhouette=chosen.silhouette,
                        stability_ari=chosen.ari_mean, clustering=clustering, segments=segments, tiers=_tiers(feats, tiers, rules),
                        rfm=rfm, files={}, seconds=0.0, peak_memory_mb=0.0, notes=_notes(clustering, rfm, cols))
    tell(0.7, "writing the segmented file, charts and report")
    report.files = write_outputs(source, feats, rejects, seg, tiers, risk, scores, report, out_dir, tell, language)
    report.seconds = round(time.perf_counter() - started, 2)
    report.peak_memory_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    Path(report.files["json"]).write_text(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=1), encoding="utf-8")
    tell(1.0, "done")
    return report


def _notes(clustering: Clustering, rfm: RfmResult, cols: BookColumns) -> list[str]:
    notes = []
    if clustering.risk_rows:
        notes.append(f"{clustering.risk_rows:,} overdrawn or defaulted clients were put in a risk-review segment before clustering.")
    if clustering.fit_rows < clustering.clustered_rows:
        notes.append(f"k-means was fitted on a random {clustering.fit_rows:,} of {clustering.clustered_rows:,} clients; "
                     "every client was then assigned to the nearest segment centre.")
    if "recency" in cols.mapped():
        notes.append(f"Recency is read from '{cols.mapped()['recency']}'; values {cols.recency_never} mean never (score 1).")
    if rfm.dormant:
        notes.append(f"{rfm.dormant:,} dormant clients (zero balance, no activity) score 1-1-1 and are left out of the quintiles.")
    return notes
