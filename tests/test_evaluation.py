"""The evaluator on a tiny BEIR-format fixture (CRLF endings, like the official files)."""

import math
from pathlib import Path

import pytest

from assistant.evaluation.beir import evaluate_beir, load_beir
from assistant.evaluation.metrics import mrr_at, ndcg_at, recall_at, section_matches

TINY = Path(__file__).parent / "fixtures" / "beir_tiny"


def test_metrics_match_hand_computed_values():
    rel = {"a": 1, "b": 1}
    assert ndcg_at(["a", "b"], rel) == pytest.approx(1.0)
    assert ndcg_at(["x", "a"], {"a": 1}) == pytest.approx(1 / math.log2(3))
    assert recall_at(["a", "x"], rel, 100) == 0.5
    assert mrr_at(["x", "y", "b"], rel) == pytest.approx(1 / 3)
    assert mrr_at(["x"], rel) == 0.0


def test_an_expected_section_matches_by_heading_ancestor_or_path_and_nothing_else():
    expected = {"doc_id": "retail-tier-scheme", "section": "Service model by tier"}
    assert section_matches("retail-tier-scheme", "Service model by tier > Mass", expected)
    assert not section_matches("retail-kpis-and-migration", "Service model by tier", expected)
    by_path = {"doc_id": "d", "section": "Worked example: a metals SOE > Client overview and wallet"}
    assert section_matches("d", "Worked example: a metals SOE > Client overview and wallet", by_path)
    assert section_matches("d", "Plan > Worked example: a metals SOE > Client overview and wallet", by_path)
    assert not section_matches("d", "Another example > Client overview and wallet", by_path)
    assert not section_matches("d", "Worked example: a metals SOE", by_path)


def test_loader_tolerates_crlf_and_skips_unjudged_queries():
    data = load_beir(TINY, "test")
    assert len(data.corpus) == 6
    assert set(data.queries) == {"q1", "q2", "q3"}
    assert data.qrels["q3"] == {"d4": 1, "d5": 1}


def test_missing_split_is_a_clear_error():
    with pytest.raises(ValueError, match="missing"):
        load_beir(TINY, "train")


def test_bm25_scores_on_the_fixture_are_the_known_values(make_settings):
    results = evaluate_beir(make_settings(), TINY, "test", ["bm25", "dense", "hybrid"])
    by_mode = {r.mode: r for r in results}
    bm25 = by_mode["bm25"]
    # q1, q2 found at rank 1; q3 finds d4 at rank 1 but never d5 (no shared words).
    assert bm25.ndcg_at_10 == pytest.approx((1 + 1 + 1 / (1 + 1 / math.log2(3))) / 3, abs=1e-4)
    assert bm25.recall_at_100 == pytest.approx((1 + 1 + 0.5) / 3, abs=1e-4)
    assert bm25.mrr_at_10 == 1.0
    assert by_mode["dense"].mrr_at_10 == 1.0 and by_mode["dense"].recall_at_100 == 1.0
    assert by_mode["hybrid"].mrr_at_10 == 1.0
