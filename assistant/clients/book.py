"""Segment a whole book of retail clients: value tiers from the tier table plus behavioural clusters.

Banks export client books in their own layouts, so columns are mapped by a small YAML file; rows
with unusable values are written to a rejects file with the reason, never silently dropped.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, Field

from assistant.clients.rules import RuleBook
from assistant.errors import InputError

NUMERIC = ("age", "aum", "contacts", "previous_contacts")
FLAGS = ("housing_loan", "personal_loan", "in_default", "responded")


class BookColumns(BaseModel):
    delimiter: str = ","
    currency_to_rmb: float = Field(1.0, gt=0)
    columns: dict[str, str | None]
    yes_values: list[str] = ["yes", "y", "1", "true"]


class ClusterSummary(BaseModel):
    cluster: int
    label: str
    clients: int
    share: float
    mean_age: float
    median_aum_rmb: float
    housing_loan_rate: float | None = None
    personal_loan_rate: float | None = None
    response_rate: float | None = None
    main_tier: str
    service_model: str
    suggested_bundle: list[str]


class TierSummary(BaseModel):
    tier: str
    clients: int
    share: float
    median_aum_rmb: float
    service_model: str
    suggested_bundle: list[str]


class BookReport(BaseModel):
    rows: int
    segmented: int
    rejected: int
    k: int
    silhouette: float
    tiers: list[TierSummary]
    clusters: list[ClusterSummary]
    files: dict[str, str]
    seconds: float


def load_columns(path: Path) -> BookColumns:
    if not path.exists():
        raise InputError(f"column mapping not found: {path}")
    return BookColumns.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def read_book(path: Path, cols: BookColumns) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return (raw rows, clean features, rejects with reasons)."""
    if not path.exists():
        raise InputError(f"client file not found: {path}")
    try:
        raw = pd.read_csv(path, sep=cols.delimiter, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path.name}: cannot read it as a '{cols.delimiter}'-separated file ({exc})") from exc
    mapping = {k: v for k, v in cols.columns.items() if v}
    missing = [f"{k} -> '{v}'" for k, v in mapping.items() if v not in raw.columns]
    if missing:
        raise InputError(f"{path.name}: columns not found: {', '.join(missing)}; the file has {list(raw.columns)}; "
                         "adjust the column mapping (--columns)")
    if "age" not in mapping or "aum" not in mapping:
        raise InputError("the column mapping must name at least the 'age' and 'aum' columns")
    features = pd.DataFrame(index=raw.index)
    reasons = pd.Series("", index=raw.index)
    for key in NUMERIC:
        if key not in mapping:
            continue
        values = pd.to_numeric(raw[mapping[key]].str.strip(), errors="coerce")
        bad = values.isna()
        reasons[bad] += f"{mapping[key]}: not a number; "
        features[key] = values
    bad_age = features["age"].notna() & ((features["age"] < 16) | (features["age"] > 120))
    reasons[bad_age] += "age: outside 16-120; "
    yes = {v.lower() for v in cols.yes_values}
    for key in FLAGS:
        if key in mapping:
            features[key] = raw[mapping[key]].str.strip().str.lower().isin(yes).astype(float)
    for key in ("occupation", "marital"):
        if key in mapping:
            features[key] = raw[mapping[key]].str.strip().str.lower()
    features["aum_rmb"] = features["aum"] * cols.currency_to_rmb
    rejected = reasons != ""
    rejects = raw[rejected].copy()
    rejects.insert(0, "row", rejects.index + 2)  # header is line 1
    rejects["reason"] = reasons[rejected].str.rstrip("; ")
    return raw[~rejected], features[~rejected], rejects


def choose_k(matrix: np.ndarray, seed: int, k_range: range = range(2, 9)) -> tuple[int, float, np.ndarray]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best = (0, -1.0, None)
    sample = min(len(matrix), 4000)
    for k in k_range:
        if k >= len(matrix):
            break
        model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(matrix)
        score = float(silhouette_score(matrix, model.labels_, sample_size=sample, random_state=seed))
        if score > best[1]:
            best = (k, score, model.labels_)
    if best[2] is None:
        raise InputError("too few valid rows to cluster; at least 3 are needed")
    return best


def _bundle(rules: RuleBook, segment: str, needs: list[str], size: int = 4, skip: tuple[str, ...] = ()) -> list[str]:
    """Products for the segment, ranked by the needs in priority order (earlier needs weigh more)."""
    weight = {n: len(needs) - i for i, n in reversed(list(enumerate(dict.fromkeys(needs))))}
    ranked = sorted(
        (p for p in rules.products if segment in p.segments and "individual" in p.client_types and p.needs[0] not in skip),
        key=lambda p: (-sum(weight.get(n, 0) for n in p.needs), rules.products.index(p)),
    )
    return [p.name for p in ranked[:size]]


def segment_book(path: Path, rules: RuleBook, cols: BookColumns, out_dir: Path, seed: int = 7) -> BookReport:
    from sklearn.preprocessing import StandardScaler

    started = time.perf_counter()
    raw, feats, rejects = read_book(path, cols)
    if len(feats) < 3:
        raise InputError(f"{path.name}: only {len(feats)} usable rows (rejected {len(rejects)}); nothing to segment")
    tiers = rules.tiers
    feats = feats.copy()
    feats["value_tier"] = [tiers.tier_for(max(v, 0.0)).id for v in feats["aum_rmb"]]
    columns = ["age", "aum_log"] + [k for k in ("housing_loan", "personal_loan", "contacts", "previous_contacts", "responded") if k in feats]
    feats["aum_log"] = np.sign(feats["aum_rmb"]) * np.log1p(np.abs(feats["aum_rmb"]))
    matrix = StandardScaler().fit_transform(feats[columns].to_numpy(dtype=float))
    k, silhouette, labels = choose_k(matrix, seed)
    # Number clusters by median AUM so labels are stable and read low-to-high.
    order = feats.assign(c=labels).groupby("c")["aum_rmb"].median().sort_values().index.tolist()
    renumber = {old: new + 1 for new, old in enumerate(order)}
    feats["cluster"] = [renumber[c] for c in labels]

    tier_rows = []
    for tier in tiers.tiers:
        part = feats[feats["value_tier"] == tier.id]
        play = rules.playbook.segment(tier.id)
        tier_rows.append(TierSummary(tier=tier.id, clients=len(part), share=round(len(part) / len(feats), 4),
                                     median_aum_rmb=round(float(part["aum_rmb"].median()), 2) if len(part) else 0.0,
                                     service_model=tier.service_model, suggested_bundle=_bundle(rules, tier.id, play.expected_needs)))
    cluster_rows = [_describe_cluster(feats, int(c), rules) for c in sorted(feats["cluster"].unique())]

    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"clients": out_dir / "clients_segmented.csv", "clusters": out_dir / "segment_summary.csv",
             "tiers": out_dir / "tier_summary.csv", "rejects": out_dir / "rejected_rows.csv", "chart": out_dir / "segments.png"}
    result = raw.copy()
    result["aum_rmb"] = feats["aum_rmb"].round(2)
    result["value_tier"] = feats["value_tier"]
    result["cluster"] = feats["cluster"]
    result.to_csv(files["clients"], index=False)
    pd.DataFrame([c.model_dump() | {"suggested_bundle": "; ".join(c.suggested_bundle)} for c in cluster_rows]).to_csv(files["clusters"], index=False)
    pd.DataFrame([t.model_dump() | {"suggested_bundle": "; ".join(t.suggested_bundle)} for t in tier_rows]).to_csv(files["tiers"], index=False)
    rejects.to_csv(files["rejects"], index=False)
    _chart(feats, cluster_rows, files["chart"])
    return BookReport(rows=len(raw) + len(rejects), segmented=len(feats), rejected=len(rejects), k=k,
                      silhouette=round(silhouette, 4), tiers=tier_rows, clusters=cluster_rows,
                      files={k: str(v) for k, v in files.items()}, seconds=round(time.perf_counter() - started, 2))


def _describe_cluster(feats: pd.DataFrame, cluster: int, rules: RuleBook) -> ClusterSummary:
    """A cluster's label, traits and bundle from its members' average behaviour and main tier."""
    tiers = rules.tiers
    part = feats[feats["cluster"] == cluster]
    main_tier = part["value_tier"].mode().iloc[0]
    tier = next(t for t in tiers.tiers if t.id == main_tier)
    age = float(part["age"].mean())
    stage = "retiree" if age >= 60 else "pre-retiree" if age >= 50 else "established-family" if age >= 35 else "young-professional"
    traits: list[str] = []
    trait_needs: list[str] = []
    skip: list[str] = list(rules.playbook.life_stage_excluded_needs.get(stage, []))
    if "housing_loan" in part and part["housing_loan"].mean() > 0.6:
        traits.append("mortgage holders")
        trait_needs += ["insurance", "deposits"]
        skip.append("mortgage")
    if "personal_loan" in part and part["personal_loan"].mean() > 0.4:
        traits.append("personal-loan users")
        trait_needs += ["consumer-credit", "digital-banking"]
    if "responded" in part and part["responded"].mean() > 0.3:
        traits.append("campaign responders")
        trait_needs += ["deposits", "wealth-management"]
    if "previous_contacts" in part and part["previous_contacts"].mean() > 1.5:
        traits.append("previously contacted")
    needs = trait_needs + rules.playbook.life_stage_needs.get(stage, []) + rules.playbook.segment(main_tier).expected_needs
    label = f"{tier.name}, avg age {age:.0f}" + (f", {', '.join(traits)}" if traits else "")
    rate = lambda key: round(float(part[key].mean()), 4) if key in part else None  # noqa: E731
    return ClusterSummary(
        cluster=int(cluster), label=label, clients=len(part), share=round(len(part) / len(feats), 4), mean_age=round(age, 1),
        median_aum_rmb=round(float(part["aum_rmb"].median()), 2), housing_loan_rate=rate("housing_loan"),
        personal_loan_rate=rate("personal_loan"), response_rate=rate("responded"), main_tier=main_tier,
        service_model=tier.service_model, suggested_bundle=_bundle(rules, main_tier, needs, skip=tuple(skip)))


def _chart(feats: pd.DataFrame, clusters: list[ClusterSummary], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    sample = feats.sample(min(len(feats), 5000), random_state=1)
    for c in clusters:
        part = sample[sample["cluster"] == c.cluster]
        left.scatter(part["age"], part["aum_log"], s=6, alpha=0.5, label=f"{c.cluster}: {c.label[:40]}")
    left.set_xlabel("age")
    left.set_ylabel("log(1 + AUM in RMB)")
    left.set_title("Behavioural clusters")
    left.legend(fontsize=7, markerscale=3)
    right.bar([str(c.cluster) for c in clusters], [c.clients for c in clusters], color="#2b6cb0")
    right.set_xlabel("cluster")
    right.set_ylabel("clients")
    right.set_title("Cluster sizes")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
