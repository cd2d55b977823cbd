"""Read a bank's client book (CSV or Excel) through a column map, in chunks, keeping every bad row.

Banks export books in their own layouts, so a small YAML map (or the app's suggestion, edited by
the user) says which column holds what. Files are read in chunks of mapped columns only, so a
million-row book costs memory for its numbers, not for its text; a row that cannot be used goes to
the rejects with the column and the reason, never silently away.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from assistant.errors import InputError
from assistant.text import load_yaml

FIELDS = {
    "id": "client id", "age": "age (years)", "aum": "balance / AUM at the bank", "occupation": "occupation",
    "marital": "marital status", "education": "education", "housing_loan": "has a housing loan (yes/no)",
    "personal_loan": "has a personal loan (yes/no)", "in_default": "credit in default (yes/no)",
    "contacts": "contacts in the current campaign", "previous_contacts": "contacts in earlier campaigns",
    "responded": "took up the last offer (yes/no)", "recency": "days since the last contact or activity",
    "frequency": "contacts or transactions in the window (one column or several, summed)",
    "monetary": "monetary value for RFM (default: the balance)", "potential": "potential value (e.g. income)",
}
REQUIRED = ("age", "aum")
COUNTS = ("contacts", "previous_contacts")
FLAGS = ("housing_loan", "personal_loan", "in_default", "responded")
SYNONYMS = {
    "id": ["id", "client_id", "customer_id", "客户号", "客户编号"], "age": ["age", "年龄"],
    "aum": ["balance", "aum", "assets", "avg_balance", "average_balance", "余额", "日均资产", "金融资产"],
    "occupation": ["job", "occupation", "职业"], "marital": ["marital", "marital_status", "婚姻状况", "婚姻"],
    "education": ["education", "学历"], "housing_loan": ["housing", "housing_loan", "mortgage", "房贷", "住房贷款"],
    "personal_loan": ["loan", "personal_loan", "consumer_loan", "消费贷", "个人贷款"],
    "in_default": ["default", "in_default", "违约"], "contacts": ["campaign", "contacts", "营销接触次数"],
    "previous_contacts": ["previous", "previous_contacts", "历史接触次数"],
    "responded": ["y", "responded", "response", "subscribed", "是否响应", "响应"],
    "recency": ["recency", "pdays", "days_since_last", "距上次交易天数", "最近交易天数"],
    "frequency": ["frequency", "transactions", "txn_count", "交易笔数", "交易次数"],
    "monetary": ["monetary", "monetary_value"], "potential": ["potential", "income", "annual_income", "年收入", "潜力"],
}


class PotentialProxy(BaseModel):
    """Potential when the book has no potential column: documented weights, not an RM's guess."""

    occupation: dict[str, float] = Field(default_factory=dict)
    education: dict[str, float] = Field(default_factory=dict)
    age_bands: dict[int, float] = Field(default_factory=dict, description="Lower age bound -> weight.")
    default: float = 0.5


class BookColumns(BaseModel):
    """Which column of the bank's file holds what.

    >>> cols = BookColumns(columns={"age": "age", "aum": "balance"}, delimiter="auto")
    >>> cols.mapped()["aum"]
    'balance'
    """

    delimiter: str = ","
    currency_to_rmb: float = Field(1.0, gt=0)
    columns: dict[str, str | list[str] | None]
    yes_values: list[str] = ["yes", "y", "1", "true", "是"]
    recency_never: list[float] = Field([-1.0], description="Recency values that mean 'never'.")
    potential_proxy: PotentialProxy | None = None

    @field_validator("columns")
    @classmethod
    def _known(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown fields {unknown}; the column map knows {sorted(FIELDS)}")
        return value

    def mapped(self) -> dict[str, str | list[str]]:
        return {k: v for k, v in self.columns.items() if v}

    def source_columns(self) -> list[str]:
        names: list[str] = []
        for value in self.mapped().values():
            names += value if isinstance(value, list) else [value]
        return list(dict.fromkeys(names))


class BookLimits(BaseModel):
    max_bytes: int = Field(150 * 2**20, gt=0, description="Largest file accepted.")
    max_rows: int = Field(1_000_000, gt=0)
    chunk_rows: int = Field(200_000, gt=0)


def load_columns(path: Path) -> BookColumns:
    if not path.exists():
        raise InputError(f"column mapping not found: {path}")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: not a readable YAML column map ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path.name}: a column map needs 'columns:' with at least age and aum")
    try:
        return BookColumns.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"{path.name}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def suggest_columns(header: list[str]) -> dict[str, str | list[str] | None]:
    """A first guess at the column map from the header (English and Chinese names), for the user to edit."""
    by_norm = {_norm(h): h for h in header}
    taken: set[str] = set()
    found: dict[str, str | list[str] | None] = {}
    for key, names in SYNONYMS.items():
        hit = next((by_norm[_norm(n)] for n in names if _norm(n) in by_norm and by_norm[_norm(n)] not in taken), None)
        if hit is None:
            hit = next((h for h in header for n in names if len(n) > 1 and not n.isascii() and n in str(h) and h not in taken), None)
        found[key] = hit
        if hit:
            taken.add(hit)
    if not found["frequency"] and found["contacts"] and found["previous_contacts"]:
        found["frequency"] = [found["contacts"], found["previous_contacts"]]  # contact counts stand in for transactions
    return found


def sniff_delimiter(path: Path) -> str:
    sample = path.read_bytes()[:65536].decode("utf-8-sig", errors="replace")
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


class BookSource:
    """A CSV read in chunks or an Excel sheet read once, behind one ``chunks()`` interface.

    >>> source = BookSource(Path("bank.csv"), delimiter="auto")
    >>> for chunk in source.chunks(["age", "balance"]): ...
    """

    def __init__(self, path: Path, delimiter: str = ",", limits: BookLimits | None = None) -> None:
        self.path = path
        self.limits = limits or BookLimits()
        if not path.exists() or not path.is_file():
            raise InputError(f"client file not found: {path}")
        size = path.stat().st_size
        if size > self.limits.max_bytes:
            raise InputError(f"{path.name} is {size / 2**20:.0f} MB; the limit is {self.limits.max_bytes / 2**20:.0f} MB: "
                             "split the book or raise the limit")
        self.excel = path.suffix.lower() in (".xlsx", ".xlsm")
        self.delimiter = sniff_delimiter(path) if delimiter == "auto" and not self.excel else delimiter
        self._sheet: pd.DataFrame | None = None
        self.header = self._read_header()

    def _read_header(self) -> list[str]:
        if self.excel:
            return [str(c) for c in self._excel().columns]
        try:
            head = pd.read_csv(self.path, sep=self.delimiter, nrows=0, encoding="utf-8-sig")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, ValueError) as exc:
            raise InputError(f"{self.path.name}: cannot read it as a '{self.delimiter}'-separated file ({exc})") from exc
        return [str(c) for c in head.columns]

    def _excel(self) -> pd.DataFrame:
        if self._sheet is None:
            try:
                sheet = pd.read_excel(self.path, dtype=str, engine="openpyxl")
            except Exception as exc:  # openpyxl raises many kinds for a broken workbook
                raise InputError(f"{self.path.name}: cannot read it as an Excel workbook ({type(exc).__name__}: {exc})") from exc
            self._sheet = sheet.fillna("")
            self._sheet.columns = [str(c) for c in self._sheet.columns]
        return self._sheet

    def row_estimate(self) -> int:
        """Rows in the file (line breaks after the header), counted without parsing, for progress bars."""
        if self.excel:
            return len(self._excel())
        count, last = 0, b"\n"
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                count += block.count(b"\n")
                last = block[-1:]
        return max(count + (last != b"\n") - 1, 0)

    def chunks(self, usecols: list[str] | None = None, numeric: set[str] = frozenset()) -> Iterator[pd.DataFrame]:
        """Chunks of text cells, except the ``numeric`` columns, which the CSV parser may read as numbers
        (much faster; a column with a bad cell comes back as text and is checked cell by cell). The index
        is the row's position in the book."""
        rows = 0
        if self.excel:
            sheet = self._excel()
            parts = (sheet.iloc[i:i + self.limits.chunk_rows] for i in range(0, len(sheet), self.limits.chunk_rows))
        else:
            parts = self._csv_chunks(usecols, numeric)
        for part in parts:
            rows += len(part)
            if rows > self.limits.max_rows:
                raise InputError(f"{self.path.name} has more than {self.limits.max_rows:,} rows, the limit: split the book")
            yield part[usecols] if usecols is not None and self.excel else part

    def _csv_chunks(self, usecols: list[str] | None, numeric: set[str]) -> Iterator[pd.DataFrame]:
        names = usecols if usecols is not None else self.header
        dtype = {c: str for c in names if c not in numeric}
        try:
            reader = pd.read_csv(self.path, sep=self.delimiter, dtype=dtype, keep_default_na=False, na_values=[""],
                                 encoding="utf-8-sig", usecols=usecols, chunksize=self.limits.chunk_rows)
            yield from reader
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"{self.path.name}: cannot read it as a '{self.delimiter}'-separated file ({exc})") from exc


def check_mapping(cols: BookColumns, header: list[str], name: str) -> None:
    mapping = cols.mapped()
    missing = [f"{k} -> '{c}'" for k, v in mapping.items() for c in (v if isinstance(v, list) else [v]) if c not in header]
    if missing:
        raise InputError(f"{name}: columns not found: {', '.join(missing)}; the file has {header}; "
                         "adjust the column mapping (--columns, or the mapping in the Book tab)")
    absent = [k for k in REQUIRED if k not in mapping]
    if absent:
        raise InputError(f"the column mapping must name at least the 'age' and 'aum' columns (missing: {', '.join(absent)})")


def _number(chunk: pd.DataFrame, column: str, reasons: pd.Series, empty_as: float | None) -> pd.Series:
    raw = chunk[column]
    if pd.api.types.is_numeric_dtype(raw.dtype):  # the CSV parser already read every cell as a number
        values = raw.astype(np.float64)
        empty = values.isna()
        bad = pd.Series(False, index=raw.index)
    else:
        text = raw.astype(str).str.strip()
        values = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
        empty = raw.isna() | (text == "")  # read_csv gives NaN for an empty cell, Excel gives ""
        bad = values.isna() & ~empty
        if bad.any():
            reasons[bad] += f"{column}: not a number ('" + text[bad].str.slice(0, 20) + "'); "
    if empty_as is not None:
        values[empty] = empty_as
    elif empty.any():
        reasons[empty] += f"{column}: empty; "
    return values


def _lookup(series: pd.Series, table: Callable[[str], object]) -> pd.Series:
    """Map each distinct cell once (a million rows hold a few dozen distinct flags or occupations)."""
    def norm(value) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip().lower()
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    mapped = np.array([table(norm(u)) for u in uniques])
    return pd.Series(mapped[codes], index=series.index)


def parse_chunk(chunk: pd.DataFrame, cols: BookColumns, line_offset: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(features of the good rows, rejects with line numbers and reasons) for one chunk."""
    mapping = cols.mapped()
    reasons = pd.Series("", index=chunk.index, dtype=object)
    out = pd.DataFrame(index=chunk.index)
    out["age"] = _number(chunk, mapping["age"], reasons, None)
    reasons[out["age"].notna() & ((out["age"] < 16) | (out["age"] > 120))] += f"{mapping['age']}: age outside 16-120; "
    out["aum_rmb"] = _number(chunk, mapping["aum"], reasons, None) * cols.currency_to_rmb
    for key in COUNTS:
        if key in mapping:
            out[key] = _number(chunk, mapping[key], reasons, 0.0)
            reasons[out[key] < 0] += f"{mapping[key]}: negative count; "
    yes = {v.lower() for v in cols.yes_values}
    for key in FLAGS:
        if key in mapping:
            out[key] = _lookup(chunk[mapping[key]], lambda v: v in yes).astype(np.float32)
    _rfm_inputs(chunk, cols, out, reasons)
    out["potential"] = _potential(chunk, cols, out, reasons)
    bad = reasons != ""
    rejects = chunk.loc[bad, cols.source_columns()].copy()
    rejects.insert(0, "row", rejects.index + line_offset)
    rejects.insert(1, "reason", reasons[bad].str.rstrip("; "))
    return out[~bad], rejects


def _rfm_inputs(chunk: pd.DataFrame, cols: BookColumns, out: pd.DataFrame, reasons: pd.Series) -> None:
    mapping = cols.mapped()
    if "recency" in mapping:
        days = _number(chunk, mapping["recency"], reasons, np.nan)  # empty: never
        never = days.isin(cols.recency_never) | days.isna()
        out["recency"] = days.where(~never, np.nan)
        reasons[out["recency"] < 0] += f"{mapping['recency']}: negative days; "
    if "frequency" in mapping:
        names = mapping["frequency"] if isinstance(mapping["frequency"], list) else [mapping["frequency"]]
        parsed = {mapping[k]: out[k] for k in COUNTS if k in mapping and k in out}
        out["frequency"] = sum(parsed[n] if n in parsed else _number(chunk, n, reasons, 0.0) for n in names)
    if "monetary" in mapping:
        out["monetary_rmb"] = _number(chunk, mapping["monetary"], reasons, None) * cols.currency_to_rmb
    else:
        out["monetary_rmb"] = out["aum_rmb"]


def _potential(chunk: pd.DataFrame, cols: BookColumns, out: pd.DataFrame, reasons: pd.Series) -> pd.Series:
    mapping = cols.mapped()
    if "potential" in mapping:
        return _number(chunk, mapping["potential"], reasons, None)
    proxy = cols.potential_proxy or PotentialProxy()
    parts: list[pd.Series] = []
    for key, table in (("occupation", proxy.occupation), ("education", proxy.education)):
        if key in mapping and table:
            low = {k.lower(): v for k, v in table.items()}
            parts.append(_lookup(chunk[mapping[key]], lambda v, low=low: low.get(v, proxy.default)).astype(np.float64))
    if proxy.age_bands:
        bounds = sorted(proxy.age_bands)
        index = np.searchsorted(bounds, out["age"].fillna(bounds[0]).to_numpy(), side="right") - 1
        weights = np.array([proxy.age_bands[b] for b in bounds])
        parts.append(pd.Series(weights[np.clip(index, 0, None)], index=chunk.index))
    if not parts:
        return pd.Series(np.nan, index=chunk.index)
    return sum(parts) / len(parts)


def read_features(source: BookSource, cols: BookColumns,
                  progress: Callable[[float, str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """All good rows' features, all rejects, and the row count, reading only the mapped columns."""
    check_mapping(cols, source.header, source.path.name)
    feats: list[pd.DataFrame] = []
    rejects: list[pd.DataFrame] = []
    total = 0
    expected = max(source.row_estimate(), 1)
    mapping = cols.mapped()
    numeric = {c for k in ("age", "aum", *COUNTS, "recency", "frequency", "monetary", "potential") if k in mapping
               for c in (mapping[k] if isinstance(mapping[k], list) else [mapping[k]])}
    for chunk in source.chunks(cols.source_columns(), numeric):
        good, bad = parse_chunk(chunk, cols, line_offset=2)  # header is line 1
        feats.append(good.astype({c: np.float32 for c in FLAGS if c in good}))
        rejects.append(bad)
        total += len(chunk)
        if progress:
            progress(0.3 * min(total / expected, 1.0), f"read {total:,} of about {expected:,} rows")
    if not total:
        raise InputError(f"{source.path.name}: the file has a header but no rows")
    return pd.concat(feats), pd.concat(rejects), total
