"""The asker's own setting is not the topic (assistant/search/framing.py)."""

import pytest

from assistant.search.framing import topic_of
from assistant.search.retrieval import RetrievalQuery


@pytest.mark.parametrize("question, topic", [
    ("Why does RAROC matter for a city commercial bank?", "Why does RAROC matter?"),
    ("How should we price a loan to a large SOE for a city bank like ours?", "How should we price a loan to a large SOE?"),
    ("As a small regional lender, how do we tier retail clients?", "How do we tier retail clients?"),
    ("Here at our Lanzhou branch, what does a key-account plan contain?", "What does a key-account plan contain?"),
    ("How do we score RFM, given we're a small city bank?", "How do we score RFM?"),
    ("Which band does that put her in for smaller city banks?", "Which band does that put her in?"),
    ("对城商行来说，经济资本怎么算？", "经济资本怎么算？"),
    ("我们是一家城商行，零售客户怎么分层？", "零售客户怎么分层？"),
    ("站在城市商业银行的角度，包商银行倒闭有什么教训？", "包商银行倒闭有什么教训？"),
    ("作为包头的一家地方银行，怎样做小微贷款？", "怎样做小微贷款？"),
    ("I work at a city commercial bank and I need the RFM weights.", "I need the RFM weights."),
    ("Our city commercial bank's insurer partner: what solvency ratio applies?", "Insurer partner: what solvency ratio applies?"),
    ("我在兰州一家城商行工作，零售客户怎么分层？", "零售客户怎么分层？"),
    ("客户想开对公钱包，我们这种城商行怎么帮他开通？", "客户想开对公钱包，怎么帮他开通？"),
    ("我行应该怎样给国企贷款定价？", "应该怎样给国企贷款定价？"),
    ("包商银行倒闭给我们城商行留下什么教训？", "包商银行倒闭给留下什么教训？"),
])
def test_the_askers_setting_is_taken_out_of_what_is_searched(question, topic):
    assert topic_of(question) == topic


@pytest.mark.parametrize("question", [
    "What are the structural weaknesses of city commercial banks?",   # about city banks: no framing construction
    "What is a city commercial bank?",                                  # nothing would be left
    "What limits apply to lending to a bank?",                          # another bank, not the asker's
    "Risk weights that matter for a city bank's book?",                 # the bank's book is the topic
    "What should a branch know about RAROC?",
    "How do city commercial banks in Baotou segment SMEs?",
    "miR-142-5P is a known regulator of raised body temperature.",     # nothing removed: not even re-spaced
    "Input from  mental and physical health care professionals is not effective.",
    "城商行的结构性弱点有哪些？",
    "作为支行行长，日常管控资产质量应该重点盯住哪几件事？",              # a person: 作为支行 is not the setting
    "必须在我们行存够一定比例才放款，这在监管上允许吗？",              # our bank as a place in the question
    "什么是城商行？",
    "跟大行和股份行比，咱们城商行天生有哪些软肋？",                  # set against other banks: the setting is the topic
    "Compared with the big state banks, where can a bank like ours win?",
])
def test_a_question_about_city_banks_keeps_its_words(question):
    assert topic_of(question) == question


@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_a_framed_question_finds_what_the_plain_one_finds(advisor, mode):
    """The Baoshang document's "Risk lessons for a city commercial bank" holds the framing words; the
    RAROC document holds the topic."""
    def top(question: str) -> list[str]:
        return [h.chunk.id for h in advisor.retriever.run(RetrievalQuery(query=question, k=3, mode=mode))]

    assert top("How is RAROC calculated for a city commercial bank?") == top("How is RAROC calculated?")
    hits = advisor.retriever.run(RetrievalQuery(query="How is RAROC calculated for a city commercial bank?", k=1, mode=mode))
    assert hits[0].chunk.doc_id == "client-profitability-raroc-eva"


def test_the_answer_keeps_the_question_as_asked(advisor):
    question = "Here at our Lanzhou branch, how is RAROC calculated?"
    answer = advisor.ask(question)
    assert answer.question == question and answer.grounded
    assert any(c.doc_id.startswith("client-profitability-raroc-eva") for c in answer.citations)
