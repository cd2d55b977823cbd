"""Which clustering for a client book: ``python -m bench.book_methods [CSV]`` (default: the shared UCI sample).

Compares, on the clients left after the risk screen (the same rows for every method):
  1. issue 15's old features: every column z-scored, the housing/personal-loan/response flags included;
  2. this package: money ranked onto a normal scale, counts log-scaled, flags 0/1 x weight, loan flags
     described but not clustered (``FeatureWeights()``);
  3. the same with both loan flags clustered at weight 1;
  4. k-prototypes (kmodes, Huang's gamma) on the numeric columns z-scored plus the flags as categories,
     at the k chosen for 2 (it is too slow to scan every k).
Yardsticks: silhouette in the method's own space; Gower silhouette on one 2,000-client sample for all
(mixed-type distance, so no method is judged in its own geometry); stability (mean ARI of refits on
80% resamples); the flags' share of the between-segment variance on one common z-scored matrix (is a
binary flag doing the splitting?); seconds per fit. Prints one JSON line per method.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
FLAGS = ["responded", "housing_loan", "personal_loan"]


def sample_path() -> Path:
    for parent in REPO.parents:
        path = parent / "shared" / "data" / "bank-marketing" / "bank.csv"
        if path.exists():
            return path
    raise SystemExit("../shared/data/bank-marketing/bank.csv not found; pass a CSV of the same shape")


def load(path: Path) -> pd.DataFrame:
    from assistant.clients.book_clusters import risk_reasons
    from assistant.clients.book_io import BookSource, load_columns, read_features

    cols = load_columns(REPO / "knowledge" / "data" / "book_columns.yaml")
    feats, _, _ = read_features(BookSource(path, cols.delimiter), cols)
    return feats[(risk_reasons(feats) == "").to_numpy()].reset_index(drop=True)


def old_matrix(feats: pd.DataFrame) -> np.ndarray:
    aum_log = np.sign(feats["aum_rmb"]) * np.log1p(np.abs(feats["aum_rmb"]))
    frame = pd.DataFrame({"age": feats["age"], "aum_log": aum_log, "housing": feats["housing_loan"], "loan": feats["personal_loan"],
                          "contacts": feats["contacts"], "previous": feats["previous_contacts"], "responded": feats["responded"]})
    return ((frame - frame.mean()) / frame.std(ddof=0)).to_numpy(dtype=np.float64)


def common_matrix(feats: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    from assistant.clients.book_features import base_columns

    base = base_columns(feats)[["age", "balance", "contacts", "previous_contacts", *FLAGS]]
    return ((base - base.mean()) / base.std(ddof=0)).to_numpy(), list(base.columns)


def gower(frame: np.ndarray, numeric: int) -> np.ndarray:
    """Gower distance: range-scaled absolute difference for numeric columns, mismatch for categorical."""
    spans = np.ptp(frame[:, :numeric], axis=0)
    spans[spans == 0] = 1
    dist = np.zeros((len(frame), len(frame)))
    for j in range(frame.shape[1]):
        column = frame[:, j]
        dist += np.abs(column[:, None] - column[None, :]) / spans[j] if j < numeric else column[:, None] != column[None, :]
    return dist / frame.shape[1]


def evaluate(name: str, fit, predict, labels: np.ndarray, own: np.ndarray, k: int, yard: dict, seconds: float) -> dict:
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    from assistant.clients.book_features import influence

    rng = np.random.default_rng(11)
    aris = []
    for r in range(3):
        a, b = (rng.choice(len(own), int(0.8 * len(own)), replace=False) for _ in range(2))
        aris.append(adjusted_rand_score(predict(fit(own[a], r), own), predict(fit(own[b], r + 50), own)))
    share = influence(yard["common"], labels, yard["names"])
    return {"method": name, "k": k, "silhouette_own": round(float(silhouette_score(own, labels, sample_size=2000, random_state=1)), 3)
            if name != "k-prototypes" else None,
            "silhouette_gower": round(float(silhouette_score(yard["gower"], labels[yard["idx"]], metric="precomputed")), 3),
            "ari_mean": round(float(np.mean(aris)), 3), "flag_share": round(sum(share[f] for f in FLAGS), 3),
            "largest_flag": max(FLAGS, key=lambda f: share[f]), "seconds_per_fit": round(seconds, 2)}


def kmeans_row(name: str, matrix: np.ndarray, yard: dict, k: int | None = None) -> dict:
    from sklearn.cluster import KMeans

    from assistant.clients.book_clusters import ClusterSettings, choose_k

    if k is None:
        k, _, _ = choose_k(matrix[:8000].astype(np.float32), ClusterSettings(), 7)
    started = time.perf_counter()
    labels = KMeans(k, n_init=10, random_state=7).fit(matrix).labels_
    seconds = time.perf_counter() - started
    return evaluate(name, lambda x, r: KMeans(k, n_init=2, random_state=r).fit(x), lambda m, x: m.predict(x), labels, matrix, k,
                    yard, seconds)


def kprototypes_row(feats: pd.DataFrame, yard: dict, k: int) -> dict:
    from kmodes.kprototypes import KPrototypes

    numeric, _ = common_matrix(feats)
    data = np.column_stack([numeric[:, :4], feats[FLAGS].to_numpy()])
    cats = [4, 5, 6]
    started = time.perf_counter()
    labels = KPrototypes(n_clusters=k, init="Cao", n_init=1, random_state=7).fit_predict(data, categorical=cats)
    seconds = time.perf_counter() - started
    return evaluate("k-prototypes", lambda x, r: KPrototypes(n_clusters=k, init="Cao", n_init=1, random_state=r).fit(x, categorical=cats),
                    lambda m, x: m.predict(x, categorical=cats), labels, data, k, yard, seconds)


def main() -> None:
    from sklearn.cluster import KMeans  # noqa: F401  (load OpenMP before the thread limit below)
    from threadpoolctl import threadpool_limits

    from assistant.clients.book_features import FeatureWeights, cluster_matrix

    feats = load(Path(sys.argv[1]) if len(sys.argv) > 1 else sample_path())
    common, names = common_matrix(feats)
    idx = np.random.default_rng(3).choice(len(feats), min(2000, len(feats)), replace=False)
    mixed = np.column_stack([common[:, :4], feats[FLAGS].to_numpy()])[idx]
    yard = {"common": common, "names": names, "idx": idx, "gower": gower(mixed, 4)}
    with threadpool_limits(limits=1):
        rows = [kmeans_row("old: all z-scored, flags in", old_matrix(feats), yard)]
        ours = cluster_matrix(feats, FeatureWeights())[0].astype(np.float64)
        rows.append(kmeans_row("this: ranked money, flags 0/1, loans described", ours, yard))
        loans = cluster_matrix(feats, FeatureWeights(housing_loan=1.0, personal_loan=1.0))[0].astype(np.float64)
        rows.append(kmeans_row("this + loan flags clustered", loans, yard))
        rows.append(kprototypes_row(feats, yard, rows[1]["k"]))
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
