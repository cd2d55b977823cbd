"""Segments from behaviour: a risk screen first, then k-means with k chosen by silhouette and stability.

Overdrawn or defaulted clients need a credit-risk review whatever else they look like, so a rule
puts them in their own segment before clustering (as tiers are rules, not clusters). The rest are
clustered with k-means on a sample and every client is assigned to the nearest centre, which keeps
a million-row book within a minute. k must be stable (the same clients fall together when the
model is refitted on resamples: adjusted Rand index) and every segment big enough to act on;
among those k, the best silhouette wins. k-prototypes was measured against this and lost
(bench/book_methods.py: same separation, about 100 times slower).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from assistant.clients.book_features import FeatureWeights, cluster_matrix, influence
from assistant.errors import InputError

MIN_ROWS = 10


class ClusterSettings(BaseModel):
    k_min: int = Field(3, ge=2)
    k_max: int = Field(8, ge=2, le=15)
    min_share: float = Field(0.03, ge=0, lt=0.5, description="Smallest segment worth a plan (share of clustered clients).")
    stability: float = Field(0.8, ge=0, le=1, description="Mean ARI a k needs between refits on resamples.")
    resamples: int = Field(4, ge=2, le=20, description="Pairs of refits on resamples per k.")
    resample_share: float = Field(0.8, gt=0.3, lt=1)
    fit_rows: int = Field(20_000, ge=500, description="Rows the final k-means is fitted on; the rest are assigned.")
    choose_rows: int = Field(8_000, ge=500, description="Rows k is chosen on (silhouette and stability).")
    silhouette_rows: int = Field(3_000, ge=200)
    n_init: int = Field(10, ge=1, description="Starts of the final fit; scoring a k uses 4, each refit 2.")
    risk_first: bool = True
    weights: FeatureWeights = Field(default_factory=FeatureWeights)


class KScore(BaseModel):
    k: int
    silhouette: float
    ari_mean: float
    ari_min: float
    smallest_share: float
    eligible: bool


class Clustering(BaseModel):
    k: int
    chosen_by: str
    scores: list[KScore]
    features: list[str]
    influence: dict[str, float]
    fit_rows: int
    clustered_rows: int
    risk_rows: int

    @property
    def chosen(self) -> KScore:
        return next(s for s in self.scores if s.k == self.k)


def risk_reasons(feats: pd.DataFrame) -> pd.Series:
    """'overdrawn', 'in default' or both per client; empty when neither."""
    reason = pd.Series("", index=feats.index, dtype=object)
    reason[feats["aum_rmb"] < 0] = "overdrawn"
    if "in_default" in feats:
        hit = feats["in_default"] > 0
        reason[hit] = (reason[hit] + "; in default").str.lstrip("; ")
    return reason


def _kmeans(k: int, seed: int, n_init: int):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=n_init, random_state=seed)


def _score_k(sample: np.ndarray, k: int, settings: ClusterSettings, seed: int) -> KScore:
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    rng = np.random.default_rng(seed + k)
    labels = _kmeans(k, seed, min(settings.n_init, 4)).fit(sample).labels_
    rows = min(len(sample), settings.silhouette_rows)
    silhouette = float(silhouette_score(sample, labels, sample_size=rows, random_state=seed)) if len(set(labels)) > 1 else -1.0
    size = int(settings.resample_share * len(sample))
    aris = []
    for r in range(settings.resamples):
        fits = [_kmeans(k, seed + 100 * r + j, 2).fit(sample[rng.choice(len(sample), size, replace=False)]) for j in (1, 2)]
        aris.append(adjusted_rand_score(fits[0].predict(sample), fits[1].predict(sample)))
    smallest = float(np.bincount(labels, minlength=k).min() / len(sample))
    ari = float(np.mean(aris))
    return KScore(k=k, silhouette=round(silhouette, 4), ari_mean=round(ari, 4), ari_min=round(float(min(aris)), 4),
                  smallest_share=round(smallest, 4),
                  eligible=ari >= settings.stability and smallest >= settings.min_share)


def choose_k(sample: np.ndarray, settings: ClusterSettings, seed: int, fixed: int | None = None) -> tuple[int, str, list[KScore]]:
    """Score every candidate k; pick the best silhouette among the stable, big-enough ones."""
    top = min(settings.k_max, len(sample) // 3)
    if fixed is not None:
        if not 2 <= fixed <= max(top, 2):
            raise InputError(f"k={fixed} does not fit a book of {len(sample)} clustered rows; choose 2-{max(top, 2)}")
        return fixed, "set by the user", [_score_k(sample, fixed, settings, seed)]
    candidates = range(settings.k_min, max(top, settings.k_min) + 1)
    scores = [_score_k(sample, k, settings, seed) for k in candidates if k < len(sample)]
    if not scores:
        raise InputError(f"too few rows to cluster ({len(sample)}); at least {MIN_ROWS} are needed")
    eligible = [s for s in scores if s.eligible]
    if eligible:
        best = max(eligible, key=lambda s: (s.silhouette, s.k))
        return best.k, (f"best silhouette among k with mean ARI >= {settings.stability} and every segment "
                        f">= {settings.min_share:.0%} of clients"), scores
    best = max(scores, key=lambda s: (s.ari_mean, s.silhouette))
    return best.k, f"no k reached mean ARI {settings.stability}: the most stable k is used (read the segments with care)", scores


def cluster_book(feats: pd.DataFrame, settings: ClusterSettings, seed: int = 7,
                 fixed_k: int | None = None) -> tuple[np.ndarray, pd.Series, Clustering]:
    """Segment number per client (0 = risk review, 1.. = clusters, before renumbering), risk reasons, and the evidence."""
    from sklearn.cluster import KMeans  # noqa: F401  (loads OpenMP before the limit below is set)
    from threadpoolctl import threadpool_limits

    risk = risk_reasons(feats) if settings.risk_first else pd.Series("", index=feats.index, dtype=object)
    rest = (risk == "").to_numpy()
    if rest.sum() < MIN_ROWS:
        raise InputError(f"only {int(rest.sum())} clients are left to cluster after the risk screen; at least {MIN_ROWS} are needed")
    matrix, names = cluster_matrix(feats[rest], settings.weights)
    rng = np.random.default_rng(seed)
    fit_index = rng.permutation(len(matrix))[: settings.fit_rows]  # random order: the first rows are a random subset too
    sample = matrix[fit_index]
    # One thread: on a shared 2-core machine OpenMP spinning made k-means 50x slower (measured).
    with threadpool_limits(limits=1):
        k, reason, scores = choose_k(sample[: settings.choose_rows], settings, seed, fixed_k)
        model = _kmeans(k, seed, settings.n_init).fit(sample)
        rest_labels = model.predict(matrix)
    labels = np.zeros(len(feats), dtype=np.int32)
    labels[rest] = rest_labels + 1
    evidence = Clustering(k=k, chosen_by=reason, scores=scores, features=names,
                          influence=influence(matrix[fit_index], rest_labels[fit_index], names),
                          fit_rows=len(fit_index), clustered_rows=int(rest.sum()), risk_rows=int((~rest).sum()))
    return labels, risk, evidence
