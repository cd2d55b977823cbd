"""Write a segmented book: the client file (streamed, chunk by chunk), summaries, charts and the report.

The client file is the bank's own rows, unchanged and in order, with the advisor's columns added
at the end; it is written chunk by chunk from a second read of the source, so the text of a
million-row book is never held in memory at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from assistant.clients.book_charts import heatmap, matrix_scatter, scatter_frame, sizes_chart
from assistant.clients.book_features import base_columns, deviations, readable_values
from assistant.clients.book_io import BookSource
from assistant.clients.book_models import BookReport, Progress
from assistant.clients.book_report import to_docx

FILES = {"clients": "clients_segmented.csv", "segments": "segment_summary.csv", "tiers": "tier_summary.csv",
         "quadrants": "rfm_quadrants.csv", "k_selection": "k_selection.csv", "rejects": "rejected_rows.csv",
         "profile_chart": "segment_profile.png", "sizes_chart": "segment_sizes.png", "matrix_chart": "value_potential.png",
         "matrix_sample": "value_potential_sample.csv", "report": "segment_report.docx", "json": "report.json"}


def client_columns(feats: pd.DataFrame, seg: np.ndarray, tiers: np.ndarray, risk: pd.Series, scores: pd.DataFrame,
                   report: BookReport) -> pd.DataFrame:
    """The advisor's columns per good row, indexed like the source rows."""
    names = {s.segment: s.label for s in report.segments}
    out = pd.DataFrame(index=feats.index)
    out["aum_rmb"] = feats["aum_rmb"].round(2)
    out["value_tier"] = pd.Categorical(tiers)
    out["segment"] = seg
    order = sorted(names)
    out["segment_label"] = pd.Categorical.from_codes(np.searchsorted(order, seg), [names[k] for k in order])
    out["risk_flag"] = risk.to_numpy()
    keep = [c for c in ("R", "F", "M", "rfm_cell", "rfm_score", "rfm_label", "potential", "quadrant", "call_this_week") if c in scores]
    for column in keep:
        out[column] = scores[column].to_numpy()
    return out


def _write_clients(source: BookSource, computed: pd.DataFrame, path: Path, rows: int, tell: Progress) -> None:
    if not source.excel and source.row_estimate() == rows:
        _append_to_lines(source, computed, path, tell)  # one physical line per row: copy the bank's text as is
        return
    first = True
    done = 0
    for chunk in source.chunks(None):
        chunk = chunk.loc[chunk.index.intersection(computed.index)]
        joined = chunk.join(computed, rsuffix="_advisor")
        joined.to_csv(path, mode="w" if first else "a", header=first, index=False, encoding="utf-8-sig" if first else "utf-8")
        first = False
        done += len(chunk)
        tell(0.7 + 0.2 * min(done / max(len(computed), 1), 1.0), f"wrote {done:,} segmented rows")


def _field(text: str, sep: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if sep in text or '"' in text or "\n" in text else text


def _column(values: pd.Series, sep: str) -> tuple[np.ndarray, list[bytes]]:
    """(code per row, CSV text per distinct value): each distinct value is formatted once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    money = pd.api.types.is_float_dtype(values.dtype)
    texts = [_field((f"{v:.2f}".rstrip("0").rstrip(".") if money else str(v)) if v == v else "", sep).encode("utf-8")
             for v in uniques]
    return codes, texts


def row_texts(computed: pd.DataFrame, sep: str) -> tuple[list[str], list[bytes]]:
    """(column order, the advisor's columns of every row as CSV text). Few-valued columns (tier, segment,
    scores, quadrant) are combined and each combination formatted once; many-valued ones (money) go last."""
    glue = sep.encode()
    few, many = [], []
    for name in computed.columns:
        codes, texts = _column(computed[name], sep)
        (few if len(texts) <= 2000 else many).append((name, codes, texts))
    combined = np.zeros(len(computed), dtype=np.int64)
    for _, codes, texts in few:
        combined = combined * len(texts) + codes
        if combined.max(initial=0) > 2**50:
            combined = pd.factorize(combined)[0].astype(np.int64)
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    prefix = [glue.join(texts[codes[i]] for _, codes, texts in few) for i in first]
    tails = [[texts[c] for c in codes] for _, codes, texts in many]
    rows = [glue.join((prefix[k], *tail)) for k, *tail in zip(inverse.tolist(), *tails)] if tails else [prefix[k] for k in inverse]
    return [n for n, _, _ in few] + [n for n, _, _ in many], rows


def _append_to_lines(source: BookSource, computed: pd.DataFrame, path: Path, tell: Progress) -> None:
    """The fast path for a plain CSV: each kept line + the separator + the advisor's columns. Several
    times faster than parsing every cell again and writing it back with pandas."""
    sep = source.delimiter
    order, extras = row_texts(computed, sep)
    wanted = computed.index.to_numpy()
    glue = sep.encode()
    with source.path.open("rb") as raw, path.open("wb") as out:
        header = raw.readline().rstrip(b"\r\n").removeprefix(b"\xef\xbb\xbf")
        out.write(b"\xef\xbb\xbf" + header + glue + sep.join(_field(c, sep) for c in order).encode("utf-8") + b"\n")
        row, pos, buffer = 0, 0, []
        for line in raw:
            if pos < len(wanted) and row == wanted[pos]:
                buffer.append(line.rstrip(b"\r\n") + glue + extras[pos] + b"\n")
                pos += 1
                if len(buffer) == 200_000:
                    out.write(b"".join(buffer))
                    buffer = []
                    tell(0.7 + 0.2 * pos / len(wanted), f"wrote {pos:,} segmented rows")
            row += 1
        out.write(b"".join(buffer))


def _summary_tables(report: BookReport, files: dict[str, Path]) -> None:
    rows = []
    for s in report.segments:
        rows.append({"segment": s.segment, "label": s.label, "risk_review": s.risk, "clients": s.clients, "share": s.share,
                     "main_tier": s.main_tier, "mean_age": s.mean_age, "median_aum_rmb": s.median_aum_rmb,
                     "overdrawn_share": s.overdrawn_share,
                     "distinguishing": "; ".join(f"{t.words} ({t.deviation:+.2f} sd)" for t in s.distinguishing),
                     "headline": s.headline, "service_model": s.service_model.text,
                     "bundle": "; ".join(b.text for b in s.bundle), "next_actions": " | ".join(a.text for a in s.actions),
                     "tier_mix": "; ".join(f"{t} {n}" for t, n in s.tier_mix.items() if n),
                     "quadrants": "; ".join(f"{q} {n}" for q, n in s.quadrants.items())})
    pd.DataFrame(rows).to_csv(files["segments"], index=False, encoding="utf-8-sig")
    pd.DataFrame([t.model_dump() for t in report.tiers]).to_csv(files["tiers"], index=False, encoding="utf-8-sig")
    pd.DataFrame([q.model_dump(exclude={"citations"}) | {"rfm_labels": "; ".join(f"{k} {v}" for k, v in q.rfm_labels.items())}
                  for q in report.rfm.quadrants]).to_csv(files["quadrants"], index=False, encoding="utf-8-sig")
    pd.DataFrame([k.model_dump() | {"chosen": k.k == report.k} for k in report.clustering.scores]).to_csv(files["k_selection"], index=False)


def _charts(feats: pd.DataFrame, seg: np.ndarray, scores: pd.DataFrame, report: BookReport, files: dict[str, Path]) -> None:
    labels = [s.label for s in report.segments]
    dev = deviations(base_columns(feats), seg)
    heatmap(dev, readable_values(feats, seg), labels, files["profile_chart"])
    mix = pd.DataFrame([s.tier_mix for s in report.segments])
    sizes_chart(mix, labels, files["sizes_chart"])
    if report.rfm.matrix:
        value = feats["monetary_rmb"].to_numpy(dtype=np.float64)
        potential = scores["potential"].to_numpy(dtype=np.float64)
        quadrant = scores["quadrant"].to_numpy()
        label = "potential" + (" score, 0-1 (proxy)" if report.rfm.potential_source.startswith("proxy") else "")
        matrix_scatter(value, potential, quadrant, report.rfm.value_cut_rmb, report.rfm.potential_cut, label, files["matrix_chart"])
        scatter_frame(value, potential, quadrant).to_csv(files["matrix_sample"], index=False)


def write_outputs(source: BookSource, feats: pd.DataFrame, rejects: pd.DataFrame, seg: np.ndarray, tiers: np.ndarray,
                  risk: pd.Series, scores: pd.DataFrame, report: BookReport, out_dir: Path, tell: Progress,
                  language: str = "en") -> dict[str, str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {key: out_dir / name for key, name in FILES.items()}
    if not report.rfm.matrix:
        files.pop("matrix_chart")
        files.pop("matrix_sample")
    _write_clients(source, client_columns(feats, seg, tiers, risk, scores, report), files["clients"], report.rows, tell)
    rejects.to_csv(files["rejects"], index=False, encoding="utf-8-sig")
    _summary_tables(report, files)
    tell(0.93, "drawing charts")
    _charts(feats, seg, scores, report, files)
    report.files = {k: str(v) for k, v in files.items()}
    files["report"].write_bytes(to_docx(report, language=language))
    return report.files
