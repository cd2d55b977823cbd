"""The shapes a segmented book comes back in: settings, per-segment summaries and the whole report.

Their own module so that the writers (book_output, book_report) and the orchestration (book) share
them without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from assistant.clients.book_actions import CitedText, Trait
from assistant.clients.book_clusters import ClusterSettings, Clustering
from assistant.clients.book_io import BookLimits
from assistant.clients.book_rfm import RfmResult, RfmSettings

Progress = Callable[[float, str], None]


class BookSettings(BaseModel):
    clusters: ClusterSettings = Field(default_factory=ClusterSettings)
    rfm: RfmSettings = Field(default_factory=RfmSettings)
    limits: BookLimits = Field(default_factory=BookLimits)


class SegmentSummary(BaseModel):
    segment: int
    label: str
    risk: bool = Field(description="Overdrawn or in default: a credit-risk review comes before any sale.")
    clients: int
    share: float
    main_tier: str
    tier_mix: dict[str, int]
    mean_age: float
    median_aum_rmb: float
    overdrawn_share: float
    distinguishing: list[Trait]
    profile: dict[str, float]
    deviation: dict[str, float]
    headline: str
    service_model: CitedText
    bundle: list[CitedText]
    actions: list[CitedText]
    quadrants: dict[str, int] = Field(default_factory=dict)


class TierSummary(BaseModel):
    tier: str
    clients: int
    share: float
    median_aum_rmb: float
    service_model: str


class BookReport(BaseModel):
    rows: int
    segmented: int
    rejected: int
    k: int
    silhouette: float
    stability_ari: float
    clustering: Clustering
    segments: list[SegmentSummary]
    tiers: list[TierSummary]
    rfm: RfmResult
    files: dict[str, str]
    seconds: float
    peak_memory_mb: float
    notes: list[str] = Field(default_factory=list)
