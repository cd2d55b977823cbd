"""Charts a banker reads: how segments differ, how big they are by tier, and the value-potential matrix.

Money is shown as money (RMB 3.5k, RMB 1.2m) on a scale that spreads the skewed balances out, never
as "log(1 + AUM)" units; colours in the heatmap are distance from the book average in standard
deviations, and each cell also prints the segment's own value. The same numbers are returned as
tables for the app's interactive charts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from assistant.clients.book_features import LABELS, format_value, money

TIER_COLOURS = {"mass-retail": "#9fb3c8", "affluent": "#2b6cb0", "wealth": "#805ad5", "private-banking": "#d69e2e"}
QUADRANT_COLOURS = {"keep-and-grow": "#2f855a", "develop": "#2b6cb0", "maintain": "#b7791f", "reduce-cost": "#a0aec0"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def heatmap(dev: pd.DataFrame, values: pd.DataFrame, labels: list[str], path: Path) -> None:
    """Segments x features, coloured by distance from the book average, annotated with real values."""
    plt = _pyplot()
    features = [f for f in dev.columns if f in values.columns]
    data = dev[features].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.25 * len(features) + 3.5, 0.55 * len(labels) + 1.8))
    image = ax.imshow(np.clip(data, -2, 2), cmap="RdBu_r", vmin=-2, vmax=2, aspect="auto")
    for i in range(data.shape[0]):
        for j, feature in enumerate(features):
            ax.text(j, i, format_value(feature, float(values.iloc[i][feature])), ha="center", va="center", fontsize=8,
                    color="white" if abs(data[i, j]) > 1.2 else "black")
    ax.set_xticks(range(len(features)), [LABELS[f] for f in features], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), [_short(label, 48) for label in labels], fontsize=8)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("standard deviations from the book average", fontsize=8)
    ax.set_title("How each segment differs from the book (cells: the segment's own value)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def sizes_chart(mix: pd.DataFrame, labels: list[str], path: Path) -> None:
    """Horizontal bars: clients per segment, stacked by value tier."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(labels) + 1.6))
    left = np.zeros(len(mix))
    for tier in mix.columns:
        counts = mix[tier].to_numpy(dtype=float)
        if counts.sum():
            ax.barh(range(len(mix)), counts, left=left, color=TIER_COLOURS.get(tier, "#718096"), label=tier)
            left += counts
    for i, total in enumerate(left):
        ax.text(total, i, f" {int(total):,} ({total / left.sum():.0%})", va="center", fontsize=8)
    ax.set_yticks(range(len(labels)), [_short(label, 48) for label in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("clients")
    ax.set_xlim(0, left.max() * 1.25 if left.max() else 1)
    ax.legend(title="value tier", fontsize=8, title_fontsize=8, loc="lower right")
    ax.set_title("Segment sizes and their tier mix", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def matrix_scatter(value: np.ndarray, potential: np.ndarray, quadrant: np.ndarray, value_cut: float, potential_cut: float,
                   potential_label: str, path: Path, seed: int = 1) -> None:
    """Current value (money, spread on a symmetric-log scale) against potential, quadrant counts in the corners."""
    from matplotlib.ticker import FuncFormatter

    plt = _pyplot()
    rng = np.random.default_rng(seed)
    show = rng.choice(len(value), min(len(value), 6000), replace=False)
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for name, colour in QUADRANT_COLOURS.items():
        mask = quadrant[show] == name
        ax.scatter(value[show][mask], potential[show][mask], s=5, alpha=0.45, color=colour, label=name)
    ax.set_xscale("symlog", linthresh=1000)
    low, high = float(np.min(value)), float(np.max(value))
    ticks = [t for t in (-1e6, -1e5, -1e4, -1e3, 0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8) if low <= t * 1.5 and t <= high * 1.5 or t == 0]
    ax.set_xticks(ticks)
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: money(x)))
    ax.axvline(value_cut, color="#4a5568", lw=1, ls="--")
    ax.axhline(potential_cut, color="#4a5568", lw=1, ls="--")
    counts = pd.Series(quadrant).value_counts()
    corners = {"keep-and-grow": (0.98, 0.97, "right", "top"), "develop": (0.02, 0.97, "left", "top"),
               "maintain": (0.98, 0.03, "right", "bottom"), "reduce-cost": (0.02, 0.03, "left", "bottom")}
    for name, (x, y, ha, va) in corners.items():
        n = int(counts.get(name, 0))
        ax.text(x, y, f"{name}: {n:,} ({n / len(quadrant):.0%})", transform=ax.transAxes, ha=ha, va=va, fontsize=9,
                color=QUADRANT_COLOURS[name], fontweight="bold", bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    ax.set_xlabel(f"current value: balance at the bank (RMB; cut at {money(value_cut)})")
    ax.set_ylabel(potential_label)
    ax.set_title("Value-potential matrix (dashed lines: the cut-offs)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ------------------------------------------------------------------ tables for interactive charts
def sizes_frame(mix: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    long = mix.set_axis(labels).reset_index(names="segment").melt(id_vars="segment", var_name="tier", value_name="clients")
    return long[long["clients"] > 0].reset_index(drop=True)


def scatter_frame(value: np.ndarray, potential: np.ndarray, quadrant: np.ndarray, rows: int = 3000, seed: int = 1) -> pd.DataFrame:
    """A sample for the browser, balances clipped at the 1st and 99th percentile so the axis stays in money."""
    rng = np.random.default_rng(seed)
    show = rng.choice(len(value), min(len(value), rows), replace=False)
    low, high = np.percentile(value, [1, 99])
    return pd.DataFrame({"balance_rmb": np.clip(value[show], low, high).round(0), "potential": potential[show].round(3),
                         "quadrant": quadrant[show]})


def profile_frame(dev: pd.DataFrame, values: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """The heatmap as a table: each cell 'value (+1.2 sd)'."""
    features = [f for f in dev.columns if f in values.columns]
    rows = []
    for i, label in enumerate(labels):
        row = {"segment": label}
        for f in features:
            row[LABELS[f]] = f"{format_value(f, float(values.iloc[i][f]))} ({dev.iloc[i][f]:+.1f})"
        rows.append(row)
    return pd.DataFrame(rows)
