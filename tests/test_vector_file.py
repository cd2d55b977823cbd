"""The sentence vectors answers need survive a restart: read back from data/vectors/, never from the
wrong model, and a broken file costs time, not answers. Real models, real SQLite files."""

from __future__ import annotations

import logging

import numpy as np

from assistant.answers.advisor import Advisor, AskRequest
from assistant.search.embeddings import Embedder
from assistant.search.vector_file import VectorFile, file_for

TEXTS = ["How is RAROC calculated?", "包商银行为什么倒闭？", "Tier retail clients by AUM."]


def counting(embedder, monkeypatch) -> list[str]:
    """Record every text the model itself is asked to embed (the probe aside)."""
    seen: list[str] = []
    original = embedder.encode

    def encode(texts, progress=False):
        seen.extend(t for t in texts if t != VectorFile.PROBE)
        return original(texts, progress)
    monkeypatch.setattr(embedder, "encode", encode)
    return seen


def test_a_restarted_advisor_answers_without_embedding_again(make_settings, monkeypatch):
    settings = make_settings()
    first = Advisor.from_settings(settings)
    first.ingest()
    question = "What can a risk manager learn from the failure of Baoshang Bank?"
    answer = first.ask(AskRequest(question=question))
    assert answer.grounded
    first.ask(AskRequest(question="包商银行为什么倒闭？"))   # only a question with Chinese reaches the second model
    files = sorted(p.name for p in (settings.data_dir / "vectors").iterdir() if p.suffix == ".sqlite3")
    assert files == ["all-MiniLM-L6-v2.sqlite3", "multilingual-e5-small.sqlite3", "use-multilingual-v3.sqlite3"]   # one per model

    restarted = Advisor.from_settings(settings)  # a new process would build exactly this
    english, multilingual = counting(restarted.embedder, monkeypatch), counting(restarted.multilingual_embedder, monkeypatch)
    scorer = counting(restarted.multilingual_scorer, monkeypatch)
    again = restarted.ask(AskRequest(question=question))
    assert again.answer == answer.answer
    assert english == [] and multilingual == [] and scorer == []
    # after the app's warm-up (embeds every quotable unit), a restart answers a new question by embedding
    # only the question: no warm-up needed again
    first.warm_up()
    restarted = Advisor.from_settings(settings)
    english, multilingual = counting(restarted.embedder, monkeypatch), counting(restarted.multilingual_embedder, monkeypatch)
    scorer = counting(restarted.multilingual_scorer, monkeypatch)
    restarted.ask(AskRequest(question="What finally went wrong at Baoshang Bank?"))  # listed nowhere
    restarted.ask(AskRequest(question="包商银行为什么倒闭？"))
    assert english == ["What finally went wrong at Baoshang Bank?", "包商银行为什么倒闭？"] or english == ["What finally went wrong at Baoshang Bank?"]
    # the list's model embeds each new question (the Chinese one was asked before: its vector is on disk)
    assert multilingual == ["What finally went wrong at Baoshang Bank?"], multilingual[:3]
    assert scorer in ([], ["包商银行为什么倒闭？"]), scorer[:3]   # the passages were embedded by the warm-up


def test_vectors_read_back_equal_the_models_own(tmp_path):
    path = file_for(tmp_path, "all-MiniLM-L6-v2")
    writer = Embedder("all-MiniLM-L6-v2")
    writer.keep_on_disk(VectorFile(path))
    written = writer.encode_cached(TEXTS)
    reader = Embedder("all-MiniLM-L6-v2")
    reader.keep_on_disk(VectorFile(path))
    reader.encode = None  # the model must not be needed for texts on file... except for the probe check
    reader.disk.check(lambda: writer.encode([VectorFile.PROBE])[0])
    assert np.array_equal(reader.encode_cached(TEXTS), written)
    assert len(reader.disk) == len(TEXTS)


def test_a_file_written_by_another_model_is_emptied_not_read(tmp_path, caplog):
    path = tmp_path / "model.sqlite3"

    class Other(Embedder):  # another model under the same name: different vectors for the same text
        def encode(self, texts, progress=False):
            rng = np.random.default_rng(len(texts[0]))
            vectors = rng.normal(size=(len(texts), 384)).astype(np.float32)
            return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    other = Other("all-MiniLM-L6-v2")
    other.keep_on_disk(VectorFile(path))
    wrong = other.encode_cached(TEXTS)
    real = Embedder("all-MiniLM-L6-v2")
    real.keep_on_disk(VectorFile(path))
    with caplog.at_level(logging.WARNING):
        got = real.encode_cached(TEXTS)
    assert "written by another model" in caplog.text
    assert not np.allclose(got, wrong) and np.allclose(got, Embedder("all-MiniLM-L6-v2").encode(TEXTS), atol=1e-5)


def test_a_broken_file_turns_the_cache_off_and_answers_stay_right(tmp_path, caplog):
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    embedder = Embedder("all-MiniLM-L6-v2")
    embedder.keep_on_disk(VectorFile(path))
    with caplog.at_level(logging.WARNING):
        got = embedder.encode_cached(TEXTS)
    assert "turned off" in caplog.text and str(path) in caplog.text
    assert not embedder.disk.enabled
    assert np.allclose(got, Embedder("all-MiniLM-L6-v2").encode(TEXTS), atol=1e-5)


def test_the_setting_turns_it_off(make_settings):
    settings = make_settings(vector_cache=False)
    advisor = Advisor.from_settings(settings)
    advisor.embedder.encode_cached(TEXTS)
    assert advisor.embedder.disk is None and not (settings.data_dir / "vectors").exists()


def test_example_plans_drafted_at_warm_up_spare_the_first_recommendations_their_embeddings(make_settings, monkeypatch):
    from assistant.clients.plans import PlanDrafter, warm_plans
    from assistant.clients.profiles import example_profiles

    from .conftest import KNOWLEDGE

    settings = make_settings()
    first = Advisor.from_settings(settings)
    first.ingest()
    examples = example_profiles(KNOWLEDGE / "profiles")
    profile = examples["p01-micro-business"]
    assert warm_plans(first, [profile, examples["p10-affluent-family"]]) == 2
    restarted = Advisor.from_settings(settings)
    restarted.ask(AskRequest(question="warm the models"))  # the question's own vectors aside
    english, multilingual = counting(restarted.embedder, monkeypatch), counting(restarted.multilingual_embedder, monkeypatch)
    plan = PlanDrafter(restarted).run(profile)
    assert plan.sections and english == [] and multilingual == []


def test_an_ingest_embeds_only_passages_whose_text_no_earlier_ingest_embedded(make_settings, monkeypatch):
    """A store schema bump, a rebuild or an edit re-chunks documents, but passages whose text is unchanged
    keep their vectors: only new text reaches the models, and the store holds the same vectors as before."""
    from assistant.search.ingest import IngestRequest

    settings = make_settings()
    first = Advisor.from_settings(settings)
    report = first.ingest()
    assert report.reused_vectors == 0 and report.embedded_chunks > 20
    ids = [c.id for c in first.store.all_chunks()]
    before = first.store.embeddings(ids), first.multilingual_store.embeddings(ids)

    restarted = Advisor.from_settings(settings)   # what a new process (an upgraded app) builds
    english, multilingual = counting(restarted.embedder, monkeypatch), counting(restarted.multilingual_embedder, monkeypatch)
    rebuilt = restarted.ingest(IngestRequest(rebuild=True))   # every document re-chunked and written again
    assert rebuilt.embedded_chunks == report.embedded_chunks and rebuilt.multilingual_chunks == report.multilingual_chunks
    assert rebuilt.reused_vectors == rebuilt.embedded_chunks + rebuilt.multilingual_chunks
    assert english == [] and multilingual == []
    after = restarted.store.embeddings(ids), restarted.multilingual_store.embeddings(ids)
    for old, new in zip(before, after):
        assert old.keys() == new.keys() and all(np.array_equal(old[i], new[i]) for i in ids)
    assert "vectors read from the cache" in rebuilt.summary()

    doc = settings.docs_dir / "baoshang-bank-failure.md"
    added = "The supervisor's 2019 takeover notice named a one-year custody period."
    doc.write_text(doc.read_text(encoding="utf-8").rstrip() + f"\n\n## A late note\n\n{added}\n", encoding="utf-8")
    edited = restarted.ingest()
    changed = [c.embedding_text for c in restarted.store.all_chunks() if added in c.text]
    assert edited.updated == 1 and changed
    assert english == changed and multilingual == changed   # the rest of the document was read back
    assert edited.reused_vectors == 2 * (edited.embedded_chunks - len(changed))
