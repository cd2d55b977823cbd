"""RFM scores and the value-potential matrix for every client, as the knowledge base teaches them.

rfm-and-value-potential-matrix: score recency, frequency and monetary value 1-5 by quintiles of the
active base (dormant zero-balance accounts left out, because they create huge ties), combine them
as a cell and a 0.2/0.3/0.5 weighted score, then set the strategy per client with the matrix
(current value against potential, cut at the median) and time it with RFM.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from scipy.stats import rankdata

from assistant.clients.citing import PlanCitation

QUADRANTS = {  # (current high, potential high) -> id
    (True, True): "keep-and-grow", (False, True): "develop", (True, False): "maintain", (False, False): "reduce-cost",
}


class RfmSettings(BaseModel):
    weights: tuple[float, float, float] = (0.2, 0.3, 0.5)
    cut: Literal["median", "top20"] = Field("median", description="Where 'high' starts on each matrix axis.")


class QuadrantSummary(BaseModel):
    quadrant: str
    name: str = ""
    clients: int
    share: float
    median_value_rmb: float
    median_potential: float
    mean_rfm: float
    rfm_labels: dict[str, int]
    call_this_week: int
    strategy: str = ""
    citations: list[PlanCitation] = Field(default_factory=list)


class RfmResult(BaseModel):
    measures: list[str]
    cuts: dict[str, list[list[float] | None]] = Field(description="[low, high] value per score 1..5, per measure (active base).")
    dormant: int
    matrix: bool
    value_cut_rmb: float | None = None
    potential_cut: float | None = None
    potential_source: str = ""
    potential_column: str | None = Field(None, description="The book's column read as potential, when one is mapped.")
    potential_proxy: list[str] = Field(default_factory=list, description="The fields the potential proxy used (with age).")
    value_cut: Literal["median", "top20"] = Field("median", description="Where 'high' started on each axis.")
    quadrants: list[QuadrantSummary] = Field(default_factory=list)


def quintile_scores(values: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """1-5 by mid-rank quintile: the best fifth scores 5, ties share a score, NaN ('never') scores 1."""
    values = np.asarray(values, dtype=np.float64)
    scores = np.ones(len(values), dtype=np.int8)
    ok = ~np.isnan(values)
    if ok.sum():
        ranked = values[ok] if higher_is_better else -values[ok]
        pct = (rankdata(ranked, method="average") - 0.5) / ok.sum()
        scores[ok] = np.clip(1 + np.floor(5 * pct), 1, 5).astype(np.int8)
    return scores


def _bounds(values: np.ndarray, scores: np.ndarray) -> list[list[float] | None]:
    """[lowest, highest] value that earned each score 1..5: what a score means in money, days or counts."""
    out: list[list[float] | None] = []
    for s in range(1, 6):
        hit = values[(scores == s) & ~np.isnan(values)]
        out.append([float(hit.min()), float(hit.max())] if len(hit) else None)
    return out


def rfm_label(r: np.ndarray, f: np.ndarray, m: np.ndarray, never: np.ndarray | None = None) -> np.ndarray:
    """The KB's typical RFM labels; the cell, not the total, drives them (customer D in the worked example).
    'At risk' and 'Hibernating' mean activity that lapsed, so a client with no recency at all ('never')
    gets neither."""
    lapsed = (r <= 2) & (~never if never is not None else True)
    label = np.full(len(r), "Middle", dtype=object)
    label[(f >= 4) & (m <= 2)] = "Loyal but small"
    label[lapsed & (f <= 2) & (m <= 2)] = "Hibernating"
    label[lapsed & ((f >= 4) | (m >= 4))] = "At risk"
    label[(r >= 4) & (f >= 4) & (m >= 4)] = "Champions"
    return label


def score_rfm(feats: pd.DataFrame, settings: RfmSettings | None = None) -> tuple[pd.DataFrame, RfmResult]:
    """Per-client R, F, M, cell, weighted score, label and dormant flag."""
    settings = settings or RfmSettings()
    n = len(feats)
    monetary = feats["monetary_rmb"].to_numpy(dtype=np.float64)
    has_r, has_f = "recency" in feats, "frequency" in feats
    recency = feats["recency"].to_numpy(dtype=np.float64) if has_r else np.full(n, np.nan)
    frequency = feats["frequency"].to_numpy(dtype=np.float64) if has_f else np.zeros(n)
    dormant = (monetary == 0) & (frequency == 0) & np.isnan(recency)
    active = ~dormant
    out = pd.DataFrame(index=feats.index)
    cuts: dict[str, list[list[float] | None]] = {}
    measures = [("R", recency, False, has_r), ("F", frequency, True, has_f), ("M", monetary, True, True)]
    for name, values, higher, present in measures:
        scores = np.ones(n, dtype=np.int8) if present else np.full(n, 3, dtype=np.int8)
        if present:
            scores[active] = quintile_scores(values[active], higher)
            cuts[name] = _bounds(values[active], scores[active])
        out[name] = scores
    weights = np.array([w for (_, _, _, present), w in zip(measures, settings.weights) if present])
    used = [name for name, _, _, present in measures if present]
    names = [f"{r}-{f}-{m}" for r in (range(1, 6) if has_r else "-----") for f in (range(1, 6) if has_f else "-----")
             for m in range(1, 6)]
    code = (out["R"].to_numpy(dtype=np.int32) - 1) * 25 + (out["F"].to_numpy(dtype=np.int32) - 1) * 5 + out["M"].to_numpy(dtype=np.int32) - 1
    out["rfm_cell"] = np.array(names, dtype=object)[code]  # a lookup, not a million string joins
    out["rfm_score"] = np.round(out[used].to_numpy(dtype=float) @ (weights / weights.sum()), 2)
    out["rfm_label"] = rfm_label(out["R"].to_numpy(), out["F"].to_numpy(), out["M"].to_numpy(), np.isnan(recency) & has_r)
    out.loc[dormant, "rfm_label"] = "Dormant"
    out["dormant"] = dormant
    return out, RfmResult(measures=used, cuts=cuts, dormant=int(dormant.sum()), matrix=False)


def place_in_matrix(feats: pd.DataFrame, rfm: pd.DataFrame, result: RfmResult, source: str,
                    settings: RfmSettings | None = None) -> pd.DataFrame:
    """Adds quadrant and 'call this week' (keep-and-grow whose recency fell to 1) per client; fills the summary."""
    settings = settings or RfmSettings()
    value = feats["monetary_rmb"].to_numpy(dtype=np.float64)
    potential = feats["potential"].to_numpy(dtype=np.float64) if "potential" in feats else np.full(len(feats), np.nan)
    if np.isnan(potential).all():
        result.potential_source = "no potential column or proxy in the column map: matrix skipped"
        return rfm
    q = 0.5 if settings.cut == "median" else 0.8
    result.value_cut = settings.cut
    result.value_cut_rmb = float(np.quantile(value, q))
    result.potential_cut = float(np.nanquantile(potential, q))
    high_value = value > result.value_cut_rmb
    high_potential = potential > result.potential_cut
    rfm = rfm.copy()
    rfm["potential"] = np.round(potential, 4)
    order = [QUADRANTS[(v, p)] for v in (False, True) for p in (False, True)]
    rfm["quadrant"] = pd.Categorical.from_codes(high_value.astype(int) * 2 + high_potential.astype(int), categories=order)
    lapsed = (rfm["R"] == 1).to_numpy() & ~np.isnan(feats["recency"].to_numpy(dtype=np.float64)) if "recency" in feats \
        else np.zeros(len(rfm), dtype=bool)  # activity that lapsed, not 'never'
    rfm["call_this_week"] = (rfm["quadrant"] == "keep-and-grow").to_numpy() & lapsed
    result.matrix, result.potential_source = True, source
    result.quadrants = [_summary(rfm, value, potential, quadrant) for quadrant in QUADRANTS.values()]
    return rfm


def _summary(rfm: pd.DataFrame, value: np.ndarray, potential: np.ndarray, quadrant: str) -> QuadrantSummary:
    mask = (rfm["quadrant"] == quadrant).to_numpy()
    part = rfm[mask]
    labels = part["rfm_label"].value_counts()
    return QuadrantSummary(
        quadrant=quadrant, clients=int(mask.sum()), share=round(float(mask.mean()), 4),
        median_value_rmb=round(float(np.median(value[mask])), 2) if mask.any() else 0.0,
        median_potential=round(float(np.nanmedian(potential[mask])), 4) if mask.any() else 0.0,
        mean_rfm=round(float(part["rfm_score"].mean()), 2) if mask.any() else 0.0,
        rfm_labels={str(k): int(v) for k, v in labels.items()}, call_this_week=int(part["call_this_week"].sum()))
