"""Turn a book's columns into the numbers clustering and description use, on comparable scales.

Z-scoring a yes/no flag blows a rare flag up to several standard deviations, so k-means then
splits the book on product holdings (issue 15: "mortgage holders" in three clusters). Here money
is ranked onto a normal scale (skew and overdrafts stay in order without a log axis), counts are
log-scaled, continuous features are z-scored, and a flag enters as 0/1 times its weight: "yes"
versus "no" is worth one standard deviation of a continuous feature at weight 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from scipy.special import ndtri
from scipy.stats import rankdata

DESCRIBE = ("age", "balance", "overdrawn", "in_default", "housing_loan", "personal_loan", "responded", "contacts",
            "previous_contacts")
RATES = ("overdrawn", "in_default", "housing_loan", "personal_loan", "responded")
LABELS = {"age": "Age", "balance": "Balance", "overdrawn": "Overdrawn", "in_default": "In default",
          "housing_loan": "Housing loan", "personal_loan": "Personal loan", "responded": "Took the offer",
          "contacts": "Contacts this campaign", "previous_contacts": "Contacts before"}


class FeatureWeights(BaseModel):
    """How much each feature pulls in clustering. Loan flags are described, not clustered, by default:
    they are products held, and clustering on them reproduced the product holdings (measured in
    bench/book_methods.py)."""

    age: float = Field(1.0, ge=0)
    balance: float = Field(1.0, ge=0)
    contacts: float = Field(1.0, ge=0)
    previous_contacts: float = Field(1.0, ge=0)
    responded: float = Field(1.0, ge=0)
    housing_loan: float = Field(0.0, ge=0)
    personal_loan: float = Field(0.0, ge=0)

    def used(self, available: set[str]) -> dict[str, float]:
        return {k: w for k, w in self.model_dump().items() if w > 0 and k in available}


def rank_normal(values: np.ndarray) -> np.ndarray:
    """Mid-ranks mapped onto a standard normal: order kept, skew and outliers tamed, ties equal."""
    n = len(values)
    if n == 0:
        return np.asarray(values, dtype=np.float64)
    return ndtri((rankdata(values, method="average") - 0.5) / n)


def base_columns(feats: pd.DataFrame) -> pd.DataFrame:
    """The describable features in natural units (before scaling)."""
    out = pd.DataFrame(index=feats.index)
    out["age"] = feats["age"].to_numpy(dtype=np.float64)
    out["balance"] = rank_normal(feats["aum_rmb"].to_numpy(dtype=np.float64))
    out["overdrawn"] = (feats["aum_rmb"] < 0).astype(np.float64)
    for key in ("in_default", "housing_loan", "personal_loan", "responded"):
        if key in feats:
            out[key] = feats[key].astype(np.float64)
    for key in ("contacts", "previous_contacts"):
        if key in feats:
            out[key] = np.log1p(feats[key].clip(lower=0).to_numpy(dtype=np.float64))
    return out


def cluster_matrix(feats: pd.DataFrame, weights: FeatureWeights) -> tuple[np.ndarray, list[str]]:
    """The space k-means works in, for the rows given (balance is ranked among these rows)."""
    base = base_columns(feats)
    used = weights.used(set(base.columns))
    columns: list[np.ndarray] = []
    for key, weight in used.items():
        values = base[key].to_numpy()
        if key in RATES:
            columns.append(values * weight)
        else:
            std = values.std() or 1.0
            columns.append((values - values.mean()) / std * weight)
    if not columns:
        raise ValueError("no clustering feature is mapped")
    return np.column_stack(columns).astype(np.float32), list(used)


def deviations(base: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Segments x features: how far each segment's average sits from the book's, in book standard deviations."""
    means = base.groupby(labels).mean()
    book_mean = base.mean()
    book_std = base.std(ddof=0).replace(0, np.nan)
    return ((means - book_mean) / book_std).fillna(0.0)


def influence(matrix: np.ndarray, labels: np.ndarray, names: list[str]) -> dict[str, float]:
    """Each clustering feature's share of the between-segment sum of squares: which features made the split."""
    frame = pd.DataFrame(matrix.astype(np.float64), columns=names)
    centre = frame.mean()
    means = frame.groupby(labels).mean()
    sizes = pd.Series(labels).value_counts().reindex(means.index).to_numpy()[:, None]
    between = (((means - centre) ** 2) * sizes).sum()
    total = float(between.sum()) or 1.0
    return {k: round(float(v) / total, 4) for k, v in between.items()}


def readable_values(feats: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Segment values a banker reads beside the heatmap: mean age, median balance (RMB), rates, mean counts."""
    frame = pd.DataFrame({"age": feats["age"].to_numpy(), "balance": feats["aum_rmb"].to_numpy(),
                          "overdrawn": (feats["aum_rmb"] < 0).to_numpy(dtype=float)})
    for key in ("in_default", "housing_loan", "personal_loan", "responded", "contacts", "previous_contacts"):
        if key in feats:
            frame[key] = feats[key].to_numpy(dtype=float)
    grouped = frame.groupby(labels)
    out = grouped.mean()
    out["balance"] = grouped["balance"].median()
    return out


def money(value: float) -> str:
    """RMB amounts the way a banker says them: RMB 3.5k, RMB 1.2m, -RMB 800."""
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount >= 1e6:
        return f"{sign}RMB {amount / 1e6:.1f}m"
    if amount >= 1e3:
        return f"{sign}RMB {amount / 1e3:.1f}k"
    return f"{sign}RMB {amount:.0f}"


def format_value(key: str, value: float) -> str:
    if key == "age":
        return f"{value:.0f} y"
    if key == "balance":
        return money(value)
    if key in RATES:
        return f"{value:.0%}"
    return f"{value:.1f}"
