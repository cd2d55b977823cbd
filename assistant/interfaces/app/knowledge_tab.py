"""The Knowledge tab: browse documents by topic, read them, upload the bank's own files."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from assistant.errors import AdvisorError
from assistant.interfaces.app.common import ANY, AppContext, user_message
from assistant.interfaces.library import list_documents, read_document, topics
from assistant.interfaces.uploads import publish_uploads
from assistant.interfaces.app.wording import choices, page_language, say, tr


def ingest_summary(report, language: str) -> str:
    """The ingest's one-line account (IngestReport.summary) in the page's language."""
    return say(language, "documents: {added} added, {updated} updated, {removed} removed, {unchanged} unchanged; "
               "{chunks} chunks ({embedded} embedded, {multilingual} multilingual; {reused} of their vectors read from "
               "the cache); {rejected} rejected; {seconds} s",
               added=report.added, updated=report.updated, removed=report.removed, unchanged=report.unchanged,
               chunks=report.chunks, embedded=report.embedded_chunks, multilingual=report.multilingual_chunks,
               reused=report.reused_vectors,
               rejected=len(report.errors), seconds=f"{report.seconds:.1f}")


class KnowledgeTab:
    """Callbacks of the Knowledge tab; ``build()`` lays it out inside an open ``gr.Blocks``.

    >>> with gr.Blocks():
    ...     KnowledgeTab(AppContext(advisor)).build()
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def stats_markdown(self, request: gr.Request = None) -> str:
        try:
            s = self.ctx.advisor.stats()
        except AdvisorError as exc:
            return f"⚠️ {user_message(exc, page_language(request), refused_input=False)}"
        return say(page_language(request), "**{documents}** documents · **{chunks}** chunks · knowledge version `{version}` · "
                   "last ingest {last} · {location}", documents=s.documents, chunks=s.chunks, version=s.knowledge_version,
                   last=s.last_ingest, location=s.location)

    def topic_docs(self, topic: str):
        docs = [d for d in list_documents(self.ctx.advisor) if topic in (None, "", ANY) or topic in d.topics]
        choices = [(f"{d.title} ({d.source})", d.id) for d in docs]
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    def read(self, doc_id: str | None) -> str:
        return read_document(self.ctx.advisor, doc_id) if doc_id else ""

    def upload(self, files: list | None, request: gr.Request = None, progress=gr.Progress()):
        """Only a publishing role may upload when login is on; every upload is audited with its user."""
        lang = page_language(request)
        if not files:
            return "⚠️ " + say(lang, "Choose one or more files (md, txt, pdf, docx) first."), self.stats_markdown(request)
        pairs = [(Path(f), Path(getattr(f, "orig_name", None) or f).name) for f in files]
        progress(0, desc=say(lang, "checking files"))
        try:
            report = publish_uploads(self.ctx.governance, pairs, login=self.ctx.login, user=self.ctx.user(request),
                                     role=self.ctx.role(request),
                                     progress=lambda done, total, doc: progress(done / max(total, 1),
                                                                                desc=say(lang, "embedding {doc}", doc=doc)))
        except AdvisorError as exc:
            return f"⚠️ {user_message(exc, lang, refused_input=False)}", self.stats_markdown(request)
        lines = ["✅ " + say(lang, "added: {name}", name=name) for name in report.accepted]
        lines += ["❌ " + say(lang, "rejected {name}: {reason}", name=r.name, reason=r.reason) for r in report.rejected]
        if report.ingest:
            lines.append(ingest_summary(report.ingest, lang))
        return "\n\n".join(lines), self.stats_markdown(request)

    def build(self) -> None:
        ui = self
        advisor = self.ctx.advisor
        with gr.Tab(tr("Knowledge"), id="knowledge"):
            stats = gr.Markdown(ui.stats_markdown, elem_id="stats")
            with gr.Row():
                with gr.Column(scale=1):
                    docs = list_documents(advisor)
                    topic = gr.Dropdown(choices([ANY] + topics(docs)), value=ANY, label=tr("Topic"))
                    doc = gr.Dropdown([(f"{d.title} ({d.source})", d.id) for d in docs], label=tr("Document"),
                                      value=docs[0].id if docs else None)
                    gr.Markdown(tr("### Add the bank's own documents"))
                    files = gr.File(label=tr("md, txt, pdf or docx"), file_count="multiple", type="filepath", elem_id="upload-docs")
                    add = gr.Button(tr("Add to knowledge base"), elem_id="add-docs")
                    upload_report = gr.Markdown(elem_id="upload-report")
                    refresh = gr.Button(tr("Refresh statistics"), size="sm")
                with gr.Column(scale=2):
                    reader = gr.Markdown(ui.read(docs[0].id) if docs else "", elem_id="reader")
            topic.change(ui.topic_docs, topic, doc, api_visibility="private")
            doc.change(ui.read, doc, reader, api_visibility="private")
            add.click(ui.upload, files, [upload_report, stats], api_visibility="private")
            refresh.click(ui.stats_markdown, None, stats, api_visibility="private")
