"""The keyword index is built once per collection revision and loaded, memory-mapped, by the next
process: the same results as building it, never a stale index, and a broken folder costs time only.
Real Chroma store, real models, a small real knowledge base."""

from __future__ import annotations

import logging
import mmap
import shutil

from assistant.answers.advisor import Advisor, AskRequest
from assistant.search import keywords
from assistant.search.keyword_file import KeywordIndexFile
from assistant.search.retrieval import BM25Index, RetrievalQuery

QUESTIONS = ["How is RAROC calculated?", "包商银行为什么倒闭？", "What does one client, one policy mean?"]


def ranked(advisor: Advisor, mode: str = "bm25") -> list[list[str]]:
    return [[h.chunk.id for h in advisor.retriever.run(RetrievalQuery(query=q, k=8, mode=mode))] for q in QUESTIONS]


def saved_folders(settings) -> list:
    root = settings.data_dir / "keywords" / settings.collection
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.exists() else []


def test_a_new_process_loads_the_saved_index_memory_mapped_with_the_same_results(make_settings, monkeypatch):
    settings = make_settings()
    first = Advisor.from_settings(settings)
    first.ingest()
    assert first.keyword_index() > 0 and len(saved_folders(settings)) == 1
    built = ranked(first), ranked(first, "hybrid")

    restarted = Advisor.from_settings(settings)
    monkeypatch.setattr(BM25Index, "__init__", _refuse_building(BM25Index.__init__))
    assert ranked(restarted) == built[0] and ranked(restarted, "hybrid") == built[1]
    scores = restarted.retriever.keyword_index()._bm25.scores
    mapped = scores["data"]
    while mapped is not None and not isinstance(mapped, mmap.mmap):
        mapped = mapped.base
    assert isinstance(mapped, mmap.mmap)   # backed by the file's pages (shared through the page cache), not a copy


def _refuse_building(original):
    def init(self, chunks, bm25=None):
        assert bm25 is not None, "the index was built again although one was saved for this revision"
        original(self, chunks, bm25)
    return init


def test_a_write_to_the_collection_means_a_new_index_never_the_stale_one(make_settings):
    settings = make_settings()
    advisor = Advisor.from_settings(settings)
    advisor.ingest()
    advisor.keyword_index()
    doc = settings.docs_dir / "coverage-team-models.md"
    text = doc.read_text(encoding="utf-8")
    doc.write_text(text + "\n\n## Zebra lending desk\n\nThe zebrafinch desk books quokka loans.\n", encoding="utf-8")
    advisor.ingest()
    restarted = Advisor.from_settings(settings)
    hits = restarted.retriever.run(RetrievalQuery(query="zebrafinch quokka", k=3, mode="bm25"))
    assert hits and "zebrafinch" in hits[0].chunk.text
    assert len(saved_folders(settings)) == 2


def test_new_glossary_words_change_the_key(tmp_path):
    files = KeywordIndexFile(tmp_path)
    before = files.path("rev:10")
    try:
        keywords.add_keywords(["测试专用新词甲乙"])
        assert files.path("rev:10") != before
    finally:
        keywords._added.discard("测试专用新词甲乙")
    assert files.path("rev:11") != files.path("rev:10")


def test_a_broken_saved_index_is_built_again_with_a_warning(make_settings, caplog):
    settings = make_settings()
    advisor = Advisor.from_settings(settings)
    advisor.ingest()
    advisor.keyword_index()
    expected = ranked(advisor)
    (folder,) = saved_folders(settings)
    (folder / "chunks.json").write_text("[{\"id\": ", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert ranked(Advisor.from_settings(settings)) == expected
    assert "not read" in caplog.text
    (folder / "chunks.json").write_text("[]", encoding="utf-8")   # readable but not matching the index
    assert ranked(Advisor.from_settings(settings)) == expected


def test_a_folder_that_cannot_be_written_costs_time_not_answers(make_settings, caplog):
    settings = make_settings()
    advisor = Advisor.from_settings(settings)
    advisor.ingest()
    blocked = settings.data_dir / "keywords"
    blocked.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING):
        assert advisor.keyword_index() > 0 and ranked(advisor)[0]
    assert "not saved" in caplog.text


def test_only_the_newest_indexes_are_kept(tmp_path):
    import bm25s

    from assistant.knowledge.chunking import Chunk

    files = KeywordIndexFile(tmp_path, keep=2)
    chunk = Chunk(id="d#0", doc_id="d", title="t", section="s", text="raroc hurdle", position=0, doc_hash="h",
                  doc_chunks=1, source="general", topics=[], audience=[], segments=[])
    bm25 = bm25s.BM25()
    bm25.index([["raroc", "hurdl"]], show_progress=False)
    for n in range(4):
        files.save(f"rev:{n}", [chunk], bm25)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == 2 and files.path("rev:3").name in kept
    loaded_chunks, loaded = files.load("rev:3")
    assert loaded_chunks == [chunk] and loaded.get_scores(["raroc"])[0] > 0
    assert files.load("rev:0") is None
    shutil.rmtree(tmp_path)


def test_word_counts_read_off_the_index_match_counting_every_passage(make_settings):
    """The composer's word weights come from the index's postings instead of cutting every passage
    again; both ways must give the same counts, for an index built here and one loaded from disk."""
    from collections import Counter

    from assistant.answers.sections import Library

    settings = make_settings()
    advisor = Advisor.from_settings(settings)
    advisor.ingest()
    built = advisor.retriever.keyword_index()
    counted = Library(built.chunks).frequency
    assert any("\u4e00" <= t[0] <= "\u9fff" for t in counted)      # the corpus has Chinese words too
    assert built.keyword_counts() == Counter(counted)
    loaded = Advisor.from_settings(settings).retriever.keyword_index()
    assert loaded._bm25 is not built._bm25 and loaded.keyword_counts() == Counter(counted)


def test_an_english_question_in_a_new_process_does_not_load_the_chinese_segmenter(make_settings):
    settings = make_settings()
    advisor = Advisor.from_settings(settings)
    advisor.ingest()
    advisor.keyword_index()
    keywords._segmenters.clear()
    keywords.token_set.cache_clear()   # as in a new process: no passage cut yet
    answer = Advisor.from_settings(settings).ask(AskRequest(question="How is RAROC calculated?"))
    assert answer.citations and not keywords._segmenters
