"""Client books: RFM and the matrix on a hand-checked file, segments on the shared UCI sample and on a
larger file of the same shape, bad rows, column maps, Excel, and `advisor segment`."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from assistant.clients.book import segment_book
from assistant.clients.book_actions import BookCiter, load_actions
from assistant.clients.book_io import BookColumns, BookSource, load_columns, read_features, suggest_columns
from assistant.clients.book_rfm import place_in_matrix, score_rfm
from assistant.clients.rules import rules_for
from assistant.errors import InputError

from .conftest import KNOWLEDGE, ROOT

BANK = next((p / "shared" / "data" / "bank-marketing" / "bank.csv" for p in ROOT.parents
             if (p / "shared" / "data" / "bank-marketing" / "bank.csv").exists()), ROOT.parent / "shared" / "missing.csv")
needs_bank = pytest.mark.skipif(not BANK.exists(), reason="../shared/data/bank-marketing is not beside the repo")
RULES = rules_for(KNOWLEDGE / "data")
COLUMNS = load_columns(KNOWLEDGE / "data" / "book_columns.yaml")
ACTIONS = load_actions(KNOWLEDGE / "data" / "book_actions.yaml")
HEADER = ('"age";"job";"marital";"education";"default";"balance";"housing";"loan";"contact";"day";"month";"duration";'
          '"campaign";"pdays";"previous";"poutcome";"y"')

# Ten clients scored by hand. Nine are active (c10 has no balance, no transactions, no recency: dormant).
# Quintiles by mid-rank over the nine: ranks 1..9 score 1,1,2,2,3,4,4,5,5.
#   M (balance):   c5 c7 | c3 c8 | c1 | c6 c4 | c9 c2      F (txns): c4 c2 | c5 c7 | c9 | c6 c8 | c1 c3
#   R (fewest days best): c4 c9 | c5 c2 | c7 | c6 c8 | c1 c3
# Matrix cuts at the median of all ten: balance 37,500 (30,000 and 45,000), income 85,000 (80,000 and 90,000).
SMALL = """id,age,balance,txns,days,income
c1,30,45000,85,2,300000
c2,65,320000,8,35,60000
c3,40,12000,240,1,90000
c4,50,150000,3,120,80000
c5,22,2000,10,60,20000
c6,35,80000,30,10,250000
c7,45,5000,15,25,150000
c8,28,30000,60,5,40000
c9,55,200000,20,90,500000
c10,33,0,0,,70000
"""
EXPECTED = {  # id: (cell, weighted 0.2R+0.3F+0.5M, label, quadrant)
    "c1": ("5-5-3", 4.0, "Middle", "keep-and-grow"), "c2": ("2-1-5", 3.2, "At risk", "maintain"),
    "c3": ("5-5-2", 3.5, "Loyal but small", "develop"), "c4": ("1-1-4", 2.5, "At risk", "maintain"),
    "c5": ("2-2-1", 1.5, "Hibernating", "reduce-cost"), "c6": ("4-4-4", 4.0, "Champions", "keep-and-grow"),
    "c7": ("3-2-1", 1.7, "Middle", "develop"), "c8": ("4-4-2", 3.0, "Loyal but small", "reduce-cost"),
    "c9": ("1-3-5", 3.6, "At risk", "keep-and-grow"), "c10": ("1-1-1", 1.0, "Dormant", "reduce-cost"),
}


def small_columns() -> BookColumns:
    return BookColumns(columns={"id": "id", "age": "age", "aum": "balance", "frequency": "txns", "recency": "days",
                                "potential": "income"})


def test_rfm_and_matrix_match_the_hand_checked_file(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text(SMALL, encoding="utf-8")
    feats, rejects, total = read_features(BookSource(path, ","), small_columns())
    assert total == 10 and rejects.empty
    scores, result = score_rfm(feats)
    scores = place_in_matrix(feats, scores, result, "column 'income'")
    ids = pd.read_csv(path)["id"]
    for i, (cell, weighted, label, quadrant) in EXPECTED.items():
        row = scores.loc[ids[ids == i].index[0]]
        assert (row["rfm_cell"], row["rfm_score"], row["rfm_label"], row["quadrant"]) == (cell, weighted, label, quadrant), i
    assert result.dormant == 1 and result.value_cut_rmb == 37_500 and result.potential_cut == 85_000
    assert result.cuts["M"][4] == [200_000, 320_000] and result.cuts["R"][4] == [1, 2]  # score 5: the best fifth
    by_quadrant = {q.quadrant: q for q in result.quadrants}
    assert {q: by_quadrant[q].clients for q in by_quadrant} == {"keep-and-grow": 3, "develop": 2, "maintain": 2, "reduce-cost": 3}
    assert by_quadrant["keep-and-grow"].call_this_week == 1  # c9: keep-and-grow whose recency fell to 1
    assert by_quadrant["maintain"].median_value_rmb == 235_000 and by_quadrant["maintain"].rfm_labels == {"At risk": 2}


def check_book(report) -> None:
    """What the issue asks of every book: unique labels, distinct bundles, stability reported, risk flagged."""
    labels = [s.label for s in report.segments]
    assert len(set(labels)) == len(labels), labels
    bundles = [frozenset(b.text for b in s.bundle) for s in report.segments]
    assert len(set(bundles)) == len(bundles), bundles
    texts = [s.headline + s.service_model.text + "".join(a.text for a in s.actions) for s in report.segments]
    assert len(set(texts)) == len(texts)
    assert report.stability_ari >= 0.8 and report.clustering.chosen.eligible
    assert all(k.ari_mean <= 1 for k in report.clustering.scores)
    assert all(2 <= len(s.distinguishing) <= 4 for s in report.segments)
    risky = [s for s in report.segments if s.risk]
    assert risky and all(s.overdrawn_share > 0.5 or "in default" in s.label.lower() for s in risky)
    for s in risky:
        assert s.headline.startswith("Credit-risk and cash-flow review")
        wealth = {p.name for p in RULES.products if p.risk_level}
        assert not {b.text.split(" (")[0] for b in s.bundle} & wealth, "no wealth product for overdrawn clients"
    influence = report.clustering.influence
    assert max(influence.get(f, 0) for f in ("responded", "housing_loan", "personal_loan")) < 0.25, influence


@needs_bank
def test_the_shared_sample_gives_segments_that_differ_with_cited_actions(tmp_path, advisor):
    report = segment_book(BANK, RULES, COLUMNS, tmp_path, actions=ACTIONS, citer=BookCiter(advisor))
    assert (report.rows, report.segmented, report.rejected) == (4521, 4521, 0)
    check_book(report)
    assert sum(s.clients for s in report.segments) == 4521 == sum(t.clients for t in report.tiers)
    assert report.segments[0].risk and report.segments[0].label.startswith("Overdrawn")
    responsive = [s for s in report.segments if any(t.key == "responded:high" for t in s.distinguishing)]
    assert responsive and any("next campaign" in s.headline for s in responsive)
    cited = [c for s in report.segments for item in (s.service_model, *s.bundle, *s.actions) for c in item.citations]
    assert len(cited) > len(report.segments) and all(c.score >= 0.3 for c in cited)
    clients = pd.read_csv(report.files["clients"], sep=";")  # the bank's own separator, its rows unchanged
    assert len(clients) == 4521 and {"segment", "segment_label", "risk_flag", "rfm_cell", "quadrant", "value_tier"} <= set(clients.columns)
    assert (clients.loc[clients["balance"] < 0, "risk_flag"].str.contains("overdrawn")).all()
    assert sum(q.clients for q in report.rfm.quadrants) == 4521
    for key in ("profile_chart", "sizes_chart", "matrix_chart"):
        assert Path(report.files[key]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from docx import Document

    doc = Document(report.files["report"])
    assert len(doc.tables) == 2 and doc.tables[0].rows[1].cells[1].text.startswith("⚠ Overdrawn")
    again = segment_book(BANK, RULES, COLUMNS, tmp_path / "again", actions=ACTIONS)
    assert [s.clients for s in again.segments] == [s.clients for s in report.segments]


@needs_bank
def test_a_larger_book_of_the_same_shape(tmp_path):
    raw = pd.read_csv(BANK, sep=";")
    big = raw.sample(n=45_211, replace=True, random_state=3).reset_index(drop=True)
    rng = np.random.default_rng(3)
    big["balance"] = (big["balance"] * rng.uniform(0.9, 1.1, len(big))).round().astype(int)
    big["age"] = (big["age"] + rng.integers(-2, 3, len(big))).clip(18, 95)
    path = tmp_path / "big.csv"
    big.to_csv(path, sep=";", index=False)
    report = segment_book(path, RULES, COLUMNS, tmp_path / "out", actions=ACTIONS)
    assert report.segmented == 45_211
    check_book(report)


def test_bad_rows_are_reported_not_dropped(tmp_path):
    rows = [HEADER]
    for i in range(40):
        rows.append(f'{25 + i};"admin.";"single";"secondary";"no";{i * 900 - 3000};"{"yes" if i % 2 else "no"}";"no";"cellular";5;'
                    f'"may";100;{1 + i % 3};{-1 if i % 3 else 20 + i};{i % 4};"unknown";"{"yes" if i % 5 == 0 else "no"}"')
    rows.append('abc;"admin.";"single";"secondary";"no";100;"no";"no";"cellular";5;"may";100;1;-1;0;"unknown";"no"')
    rows.append('30;"admin.";"single";"secondary";"no";lots;"no";"no";"cellular";5;"may";100;1;-1;0;"unknown";"no"')
    rows.append('300;"admin.";"single";"secondary";"no";5;"no";"no";"cellular";5;"may";100;-2;-1;0;"unknown";"no"')
    path = tmp_path / "book.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = segment_book(path, RULES, COLUMNS, tmp_path / "out", actions=ACTIONS)
    assert (report.rows, report.segmented, report.rejected) == (43, 40, 3)
    rejects = pd.read_csv(report.files["rejects"])
    assert list(rejects["row"]) == [42, 43, 44]
    assert "age: not a number ('abc')" in rejects["reason"][0] and "balance: not a number ('lots')" in rejects["reason"][1]
    assert "outside 16-120" in rejects["reason"][2] and "campaign: negative count" in rejects["reason"][2]


def test_wrong_column_mapping_is_a_clear_error(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("customer,years,assets\n1,30,100\n", encoding="utf-8")
    with pytest.raises(InputError, match="columns not found.*age -> 'age'"):
        segment_book(path, RULES, COLUMNS, tmp_path / "out", actions=ACTIONS)
    with pytest.raises(InputError, match="unknown fields"):
        load_columns(_write(tmp_path / "map.yaml", "columns: {age: a, aum: b, salary: c}\n"))
    with pytest.raises(InputError, match="limit"):
        BookSource(path, ",", limits=__import__("assistant.clients.book_io", fromlist=["BookLimits"]).BookLimits(max_bytes=10))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_columns_are_suggested_from_english_and_chinese_headers():
    uci = suggest_columns(HEADER.replace('"', "").split(";"))
    assert {k: uci[k] for k in ("age", "aum", "occupation", "housing_loan", "personal_loan", "in_default", "contacts",
                                "previous_contacts", "responded", "recency")} == {
        "age": "age", "aum": "balance", "occupation": "job", "housing_loan": "housing", "personal_loan": "loan",
        "in_default": "default", "contacts": "campaign", "previous_contacts": "previous", "responded": "y", "recency": "pdays"}
    assert uci["frequency"] == ["campaign", "previous"] and uci["potential"] is None
    chinese = suggest_columns(["客户编号", "年龄", "日均资产(元)", "职业", "交易笔数", "距上次交易天数"])
    assert (chinese["id"], chinese["age"], chinese["aum"], chinese["frequency"], chinese["recency"]) == (
        "客户编号", "年龄", "日均资产(元)", "交易笔数", "距上次交易天数")


def test_an_excel_book_segments_like_its_csv(tmp_path):
    rng = np.random.default_rng(5)
    n = 300
    frame = pd.DataFrame({"客户编号": [f"k{i}" for i in range(n)], "年龄": rng.integers(20, 80, n),
                          "日均资产": np.round(rng.lognormal(9, 1.5, n) - 3000), "交易笔数": rng.integers(0, 90, n),
                          "距上次交易天数": rng.integers(1, 200, n)})
    frame.to_excel(tmp_path / "book.xlsx", index=False)
    cols = BookColumns(columns=suggest_columns(list(frame.columns)), delimiter="auto")
    report = segment_book(tmp_path / "book.xlsx", RULES, cols, tmp_path / "out", actions=ACTIONS)
    assert report.segmented == n and report.segments[0].risk  # negative balances: the risk review comes first
    assert not report.rfm.matrix and "matrix skipped" in report.rfm.potential_source
    out = pd.read_csv(report.files["clients"])
    assert list(out["客户编号"][:3]) == ["k0", "k1", "k2"] and out["R"].between(1, 5).all()


def test_advisor_segment_command_writes_every_output(tmp_path):
    from assistant.interfaces.cli import app

    rows = [HEADER] + [f'{25 + i % 50};"admin.";"single";"secondary";"no";{(i * 397) % 9000 - 900};"no";"no";"cellular";5;'
                       f'"may";100;{1 + i % 7};{-1 if i % 4 else 30 + i % 90};{i % 3};"unknown";"{"yes" if i % 6 == 0 else "no"}"'
                       for i in range(300)]
    book = _write(tmp_path / "book.csv", "\n".join(rows) + "\n")
    result = CliRunner().invoke(app, ["segment", str(book), "--out", str(tmp_path / "out"), "--no-cite"],
                                env={"ADVISOR_KNOWLEDGE_DIR": str(KNOWLEDGE), "ADVISOR_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 0, result.output
    assert "stability ARI" in result.output and "[RISK]" in result.output
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"clients_segmented.csv", "segment_summary.csv", "rfm_quadrants.csv", "segment_report.docx", "segment_profile.png",
            "segment_sizes.png", "value_potential.png", "k_selection.csv", "rejected_rows.csv", "report.json"} <= names
    bad = CliRunner().invoke(app, ["segment", str(tmp_path / "nope.csv"), "--no-cite"],
                             env={"ADVISOR_KNOWLEDGE_DIR": str(KNOWLEDGE), "ADVISOR_DATA_DIR": str(tmp_path / "data")})
    assert bad.exit_code == 2 and "not found" in bad.output
