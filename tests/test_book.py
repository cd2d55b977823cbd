"""`advisor segment` on the shared UCI Bank Marketing sample and on bad rows."""

from pathlib import Path

import pandas as pd
import pytest

from assistant.clients.book import load_columns, segment_book
from assistant.errors import InputError
from assistant.clients.rules import rules_for

from .conftest import KNOWLEDGE, ROOT

BANK = ROOT.parent / "shared" / "data" / "bank-marketing" / "bank.csv"
RULES = rules_for(KNOWLEDGE / "data")
COLUMNS = load_columns(KNOWLEDGE / "data" / "book_columns.yaml")


@pytest.mark.skipif(not BANK.exists(), reason="../shared/data/bank-marketing is not beside the repo")
def test_segments_the_shared_sample(tmp_path):
    report = segment_book(BANK, RULES, COLUMNS, tmp_path)
    assert report.rows == 4521 and report.segmented == 4521 and report.rejected == 0
    assert 2 <= report.k <= 8 and report.silhouette > 0.1
    assert sum(t.clients for t in report.tiers) == 4521
    assert sum(c.clients for c in report.clusters) == 4521
    assert all(c.suggested_bundle and c.service_model for c in report.clusters)
    clients = pd.read_csv(report.files["clients"])
    assert len(clients) == 4521 and {"value_tier", "cluster", "aum_rmb"} <= set(clients.columns)
    assert Path(report.files["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = segment_book(BANK, RULES, COLUMNS, tmp_path / "again")
    assert [c.clients for c in again.clusters] == [c.clients for c in report.clusters]


def test_bad_rows_are_reported_not_dropped(tmp_path):
    rows = ['"age";"job";"marital";"education";"default";"balance";"housing";"loan";"contact";"day";"month";"duration";"campaign";"pdays";"previous";"poutcome";"y"']
    for i in range(40):
        rows.append(f'{25 + i};"admin.";"single";"secondary";"no";{i * 900};"{"yes" if i % 2 else "no"}";"no";"cellular";5;"may";100;{1 + i % 3};-1;{i % 4};"unknown";"{"yes" if i % 5 == 0 else "no"}"')
    rows.append('abc;"admin.";"single";"secondary";"no";100;"no";"no";"cellular";5;"may";100;1;-1;0;"unknown";"no"')
    rows.append('30;"admin.";"single";"secondary";"no";lots;"no";"no";"cellular";5;"may";100;1;-1;0;"unknown";"no"')
    rows.append('300;"admin.";"single";"secondary";"no";5;"no";"no";"cellular";5;"may";100;1;-1;0;"unknown";"no"')
    path = tmp_path / "book.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = segment_book(path, RULES, COLUMNS, tmp_path / "out")
    assert (report.rows, report.segmented, report.rejected) == (43, 40, 3)
    rejects = pd.read_csv(report.files["rejects"])
    assert list(rejects["row"]) == [42, 43, 44]
    assert "age: not a number" in rejects["reason"][0] and "balance: not a number" in rejects["reason"][1]
    assert "outside 16-120" in rejects["reason"][2]


def test_wrong_column_mapping_is_a_clear_error(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("customer,years,assets\n1,30,100\n", encoding="utf-8")
    with pytest.raises(InputError, match="columns not found"):
        segment_book(path, RULES, COLUMNS, tmp_path / "out")
