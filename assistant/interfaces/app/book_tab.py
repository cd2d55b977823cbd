"""The Book tab: upload a client book, check the suggested column map, see segments, charts and RFM, download.

Callbacks translate widgets to ``segment_book`` and its report back to widgets; the segmentation,
the actions and the limits all live in assistant.clients. Also the ``/segment`` API endpoint.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
import pandas as pd
from pydantic import ValidationError

from assistant.clients.book import segment_book
from assistant.clients.book_actions import BookCiter, load_actions
from assistant.clients.book_charts import profile_frame, sizes_frame
from assistant.clients.book_io import FIELDS, BookColumns, BookLimits, BookSource, load_columns, suggest_columns
from assistant.clients.book_report import check_language, headline, to_markdown
from assistant.clients.rules import rules_for
from assistant.errors import AdvisorError
from assistant.interfaces.app.common import AppContext, user_message
from assistant.interfaces.app.wording import page_language, say, tr

NONE = "(none)"
KEYS = list(FIELDS)
LIMITS = BookLimits()
LIMITS_TEXT = (f"CSV (`,` `;` tab or `|` separated, UTF-8) or Excel `.xlsx`, up to **{LIMITS.max_bytes // 2**20} MB** and "
               f"**{LIMITS.max_rows:,} rows**; a million rows take under a minute. Rows that cannot be used are listed "
               "below with the reason, never dropped silently.")
SHOWN_REJECTS = 200


class BookTab:
    """Callbacks of the Book tab; ``build()`` lays it out inside an open ``gr.Blocks``.

    >>> book = BookTab(AppContext(advisor))
    >>> with gr.Blocks():
    ...     book.build()
    ...     book.register_api()   # the /segment endpoint, outside any gr.Tabs
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def defaults(self) -> BookColumns:
        return load_columns(self.ctx.settings.rules_dir / "book_columns.yaml")

    def auto_columns(self, path: Path) -> tuple[BookColumns, BookSource]:
        """The suggested map; rate, yes-values and the potential proxy come from the default map, and the
        default's currency rate only when the file looks like the default's layout (else RMB)."""
        source = BookSource(path, "auto", LIMITS)
        found = suggest_columns(source.header)
        default = self.defaults()
        same = all(found.get(k) == v for k, v in default.mapped().items())
        return default.model_copy(update={"columns": found, "delimiter": "auto",
                                          "currency_to_rmb": default.currency_to_rmb if same else 1.0}), source

    def suggest(self, path: str | None, request: gr.Request = None):
        """Header read, columns suggested for the user to check."""
        keep = [gr.update() for _ in KEYS]
        if not path:
            return keep + [gr.update(), gr.update(), ""]
        lang = page_language(request)
        try:
            cols, source = self.auto_columns(Path(path))
            header = source.header
            rows = source.row_estimate()
        except (AdvisorError, ValueError) as exc:
            detail = user_message(exc, lang, lead="The uploaded file cannot be read: {detail}")
            return keep + [gr.update(), gr.update(), f"⚠️ {detail}"]
        found = cols.columns
        updates = []
        for key in KEYS:
            value = found.get(key)
            if key == "frequency":
                updates.append(gr.update(choices=header, value=value if isinstance(value, list) else ([value] if value else [])))
            else:
                updates.append(gr.update(choices=[NONE, *header], value=value or NONE))
        rate = cols.currency_to_rmb
        sep = {",": say(lang, "comma"), ";": say(lang, "semicolon"), "\t": say(lang, "tab"), "|": say(lang, "bar")}
        separated = "" if source.excel else say(lang, ", {sep}-separated", sep=sep.get(source.delimiter, source.delimiter))
        note = say(lang, "{columns} columns, about {rows} rows{separated}; {matched} fields matched. Check the mapping, then segment.",
                   columns=len(header), rows=f"{rows:,}", separated=separated, matched=sum(1 for k in KEYS if found.get(k)))
        return updates + [rate, "auto", note]

    def columns_from(self, delimiter: str, rate: float | None, values: list) -> BookColumns:
        mapping: dict[str, str | list[str] | None] = {}
        for key, value in zip(KEYS, values):
            if key == "frequency":
                mapping[key] = list(value) if value else None
            else:
                mapping[key] = None if value in (None, "", NONE) else value
        base = self.defaults()
        return base.model_copy(update={"columns": BookColumns(columns=mapping).columns, "delimiter": delimiter or "auto",
                                       "currency_to_rmb": float(rate) if rate else 1.0})

    def run(self, request: gr.Request, path: str | None, delimiter: str, rate: float | None, k: str,
            progress=gr.Progress(), *values):
        """``request`` and ``progress`` come before ``*values``: Gradio fills in only positional parameters (a
        ``progress`` after them was never tracked, so the bar stood still through a long segmentation). The
        tab's own words, the segment report (book_report.to_markdown) and its DOCX download follow the page's
        language; the package's notes stay in English."""
        lang = page_language(request)
        hidden = gr.update(value=None, visible=False)
        empty = [None, None, None, "", None, None, hidden, hidden, None]
        if not path:
            return ["⚠️ " + say(lang, "Upload a client book first."), ""] + empty
        try:
            cols = self.columns_from(delimiter, rate, list(values))
            out = self.ctx.downloads.folder()
            report = segment_book(Path(path), rules_for(self.ctx.settings.rules_dir), cols, out,
                                  actions=load_actions(self.ctx.settings.rules_dir / "book_actions.yaml"),
                                  citer=BookCiter(self.ctx.advisor), k=None if k in (None, "", "auto") else int(k),
                                  progress=lambda fraction, message: progress(fraction, desc=message), language=lang)
        except (AdvisorError, ValidationError, ValueError) as exc:
            detail = user_message(exc, lang, lead="The book could not be segmented: {detail}")
            return [f"⚠️ {detail}", ""] + empty
        return ["", self._status(report, lang)] + self._views(report, lang)


    def _status(self, report, lang: str = "en") -> str:
        head = headline(report, lang)
        lines = [say(lang, "**{headline}** · peak memory {memory} MB", headline=head, memory=f"{report.peak_memory_mb:,.0f}"), ""]
        lines += [f"- {n}" for n in report.notes]
        lines.append("- " + say(lang, "k chosen by: {reason}", reason=report.clustering.chosen_by))
        return "\n".join(lines)

    def _views(self, report, lang: str = "en") -> list:
        labels = [s.label for s in report.segments]
        mix = pd.DataFrame([s.tier_mix for s in report.segments])
        dev = pd.DataFrame([s.deviation for s in report.segments])
        values = pd.DataFrame([s.profile for s in report.segments])
        files = report.files
        scatter = pd.read_csv(files["matrix_sample"]) if "matrix_sample" in files else None
        rejects = pd.read_csv(files["rejects"], dtype=str, nrows=SHOWN_REJECTS, keep_default_na=False)
        kscores = pd.DataFrame([s.model_dump() for s in report.clustering.scores])
        rejected = (say(lang, "**{count} rows could not be used** (first {shown} below; all in `rejected_rows.csv`)",
                        count=f"{report.rejected:,}", shown=min(report.rejected, SHOWN_REJECTS))
                    if report.rejected else say(lang, "No rows were rejected."))
        return [to_markdown(report, lang), profile_frame(dev, values, labels), sizes_frame(mix, labels), rejected, scatter, kscores,
                gr.update(value=files["clients"], visible=True), gr.update(value=files["report"], visible=True),
                rejects if report.rejected else None]

    def build(self) -> None:
        with gr.Tab(tr("Book"), id="book"):
            gr.Markdown(tr("### Segment a book of clients\n" + LIMITS_TEXT), elem_id="book-limits")
            with gr.Row():
                with gr.Column(scale=2):
                    upload = gr.File(label=tr("Client book (CSV or Excel)"), file_types=[".csv", ".txt", ".xlsx"], type="filepath",
                                     elem_id="book-file")
                    note = gr.Markdown(elem_id="book-note")
                    fields = self._mapping()
                    run = gr.Button(tr("Segment the book"), variant="primary", elem_id="segment-book")
                with gr.Column(scale=5):
                    error = gr.Markdown(elem_id="book-error", elem_classes="error-box")
                    status = gr.Markdown(elem_id="book-status")
                    with gr.Row():
                        segmented = gr.DownloadButton(tr("Download segmented file (CSV)"), visible=False, elem_id="download-segmented")
                        report_file = gr.DownloadButton(tr("Download segment report (DOCX)"), visible=False, elem_id="download-book-report")
                    summary = gr.Markdown(elem_id="book-segments")
                    profile = gr.Dataframe(label=tr("How segments differ: value (standard deviations from the book average)"),
                                           elem_id="book-profile", wrap=True)
                    sizes = gr.BarPlot(x="segment", y="clients", color="tier", label=tr("Segment sizes by value tier"),
                                       x_label_angle=-20, elem_id="book-sizes")
                    scatter = gr.ScatterPlot(x="balance_rmb", y="potential", color="quadrant", x_title="balance at the bank (RMB)",
                                             y_title="potential", label=tr("Value-potential matrix (sample of clients)"),
                                             tooltip="all", elem_id="book-matrix")
                    kscores = gr.Dataframe(label=tr("Choosing k: silhouette and stability (ARI between refits on resamples)"),
                                           elem_id="book-k")
                    rejected_note = gr.Markdown(elem_id="book-rejected-note")
                    rejects = gr.Dataframe(label=tr("Rows that could not be used"), elem_id="book-rejects", wrap=True)
            mapping, delimiter, rate, k = fields
            upload.change(self.suggest, upload, mapping + [rate, delimiter, note], api_visibility="private")
            run.click(self.run, [upload, delimiter, rate, k, *mapping],
                      [error, status, summary, profile, sizes, rejected_note, scatter, kscores, segmented, report_file, rejects],
                      api_visibility="private")

    def register_api(self) -> None:
        """The named /segment endpoint. Called outside the gr.Tabs block: an endpoint inside it is laid out
        as a child of the tabs, and the browser then showed the tab after it twice."""
        gr.api(self.api_segment, api_name="segment", concurrency_limit=1)

    def api_segment(self, book: dict, columns: dict | None = None, k: int | None = None, language: str = "en") -> dict:
        """Segment a book: `book` is handle_file(path); `columns` an optional column map ({"columns": {...},
        "delimiter", "currency_to_rmb"}), else suggested from the header; `k` optional; `language` "en"
        (default) or "zh", the language of `markdown` and of the DOCX report (`files["report"]`); any other
        value is refused by name. Returns the report JSON; its data (labels, notes, actions) is as the
        package words it, in English."""
        from gradio.utils import get_upload_folder

        try:
            language = check_language(language)
            path = Path(str((book or {}).get("path", ""))).resolve()
            if not path.is_file() or Path(get_upload_folder()).resolve() not in path.parents:
                raise ValueError("book: pass the file with gradio_client.handle_file(path)")
            cols = BookColumns.model_validate(columns) if columns else self.auto_columns(path)[0]
            out = self.ctx.downloads.folder()
            report = segment_book(path, rules_for(self.ctx.settings.rules_dir), cols, out,
                                  actions=load_actions(self.ctx.settings.rules_dir / "book_actions.yaml"),
                                  citer=BookCiter(self.ctx.advisor), k=k, language=language)
        except (AdvisorError, ValidationError, ValueError) as exc:
            raise gr.Error(user_message(exc)) from exc
        data = report.model_dump(mode="json")
        data["files"] = {key: Path(p).name for key, p in report.files.items()}
        data["markdown"] = to_markdown(report, language)
        return data

    def _mapping(self):
        with gr.Accordion(tr("Column mapping (suggested from the header; edit if wrong)"), open=True):
            mapping = []
            for key, meaning in FIELDS.items():
                if key == "frequency":
                    mapping.append(gr.Dropdown([], value=[], multiselect=True, label=f"{key}: {meaning}", elem_id=f"map-{key}"))
                else:
                    mapping.append(gr.Dropdown([NONE], value=NONE, label=f"{key}: {meaning}", elem_id=f"map-{key}"))
            with gr.Row():
                delimiter = gr.Textbox("auto", label=tr("Separator (auto, or , ; | tab)"), elem_id="book-delimiter")
                rate = gr.Number(1.0, label=tr("Currency to RMB rate"), elem_id="book-rate")
                k = gr.Dropdown(["auto", *map(str, range(2, 11))], value="auto", label=tr("Segments (k)"), elem_id="book-k-choice")
        return mapping, delimiter, rate, k
