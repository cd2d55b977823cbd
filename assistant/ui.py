"""The Gradio face of the advisor. Callbacks only translate between widgets and package calls.

Every callback catches the errors a user can cause and shows them next to the input they concern;
the named API endpoints (/ask, /classify, /plan) call the same package functions as the tabs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from .advisor import Advisor, AskRequest  # noqa: E402
from .answers import Answer  # noqa: E402
from .chat import ChatRequest, ChatService, Turn  # noqa: E402
from .errors import AdvisorError  # noqa: E402
from .exports import to_docx, to_json, to_markdown  # noqa: E402
from .feedback import FeedbackIn, FeedbackStore  # noqa: E402
from .governance import Governance  # noqa: E402
from .reviews import review_store  # noqa: E402
from .forms import ENTERPRISE_FIELDS, INDIVIDUAL_FIELDS, ProfileForm, form_to_profile, profile_to_form  # noqa: E402
from .library import list_documents, read_document, topics  # noqa: E402
from .profiles import example_profiles, load_profiles, validate_profile  # noqa: E402
from .rules import INDUSTRIES, rules_for  # noqa: E402
from .segmentation import classify  # noqa: E402
from .uploads import store_uploads  # noqa: E402

ANY = "any"
SOURCES = [ANY, "thesis-a", "thesis-b", "general", "bank"]
AUDIENCES = [ANY, "manager", "relationship-manager", "trainer"]
SEGMENTS = [ANY, "micro-business", "small-business", "medium-enterprise", "supply-chain-supplier", "major-client",
            "mass-retail", "affluent", "wealth", "private-banking"]
FORM_KEYS = list(ProfileForm.model_fields)
CSS = ".cited {font-size: 0.92em} .error-box {color: #b00020}"


def user_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


def render_sources(answer: Answer) -> str:
    if not answer.citations:
        hint = ("\n\nNearest topics: " + "; ".join(answer.suggestions)) if answer.suggestions else ""
        return "_No passage in the knowledge base answers this question._" + hint
    parts = []
    if answer.retrieval_query:
        parts.append(f"_Searched as:_ {answer.retrieval_query}")
    for warning in answer.warnings:
        parts.append(f"⚠️ {warning}")
    for c in answer.citations:
        where = f"{c.title} › {c.section}" if c.section else c.title
        parts.append(f"**[{c.n}] {where}**  \n`{c.doc_id}` · {c.source} · similarity {c.score:.2f}\n\n> "
                     + c.text.replace("\n", "\n> "))
    footer = " · ".join(x for x in (f"composer: {answer.composer}", f"audit id: `{answer.audit_id}`" if answer.audit_id else "") if x)
    parts.append(f"<small>{footer}<br>{answer.disclaimer or ''}</small>")
    return "\n\n".join(parts)


def answer_markdown(answer: Answer) -> str:
    text = answer.answer
    if answer.citations:
        text += "\n\n" + "  \n".join(f"[{c.n}] {c.title}" + (f" › {c.section}" if c.section else "") for c in answer.citations)
    return text


def filters_of(source: str, audience: str, segment: str) -> dict[str, str]:
    pairs = {"source": source, "audience": audience, "segments": segment}
    return {k: v for k, v in pairs.items() if v and v != ANY}


class AdvisorUI:
    """Holds the services the callbacks call; built once per app."""

    def __init__(self, advisor: Advisor, auth=None) -> None:
        self.advisor = advisor
        self.settings = advisor.settings
        self.governance = Governance(advisor)
        self.chat = ChatService(self.governance)
        self.reviews = review_store(self.settings)
        self.auth = auth
        self.feedback = FeedbackStore(self.settings.data_dir / "feedback.sqlite3")
        self.downloads = Path(tempfile.mkdtemp(prefix="advisor-downloads-"))

    # ------------------------------------------------------------------ Ask
    def user(self, request: gr.Request | None) -> str | None:
        return getattr(request, "username", None) if request is not None else None

    def role(self, request: gr.Request | None):
        return self.auth.role(self.user(request)) if self.auth else None

    def ask_stream(self, question: str, messages: list, turns: list, source: str, audience: str, segment: str,
                   request: gr.Request):
        messages = list(messages or [])
        history = [Turn.model_validate(t) for t in (turns or [])]
        try:
            chat_request = ChatRequest(question=question or "", history=history, filters=filters_of(source, audience, segment))
            updates = self.chat.respond(chat_request, self.user(request))
            first = next(updates)
        except (AdvisorError, ValidationError, ValueError) as exc:
            yield messages, turns, gr.update(), f"⚠️ {user_message(exc)}", question, None
            return
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": first.partial}]
        yield messages, turns, gr.update(), "", "", None
        final = first.answer
        for update in updates:
            messages[-1] = {"role": "assistant", "content": update.partial if not update.done else answer_markdown(update.answer)}
            final = update.answer or final
            yield messages, turns, gr.update(), "", "", None
        history += [Turn(role="user", content=question, query=final.retrieval_query or question.strip()),
                    Turn(role="assistant", content=final.answer)]
        yield (messages, [t.model_dump() for t in history], render_sources(final), "", "", final.model_dump(mode="json"))

    def feedback_up(self, comment: str, last: dict | None, request: gr.Request):
        return self.send_feedback(1, comment, last, request)

    def feedback_down(self, comment: str, last: dict | None, request: gr.Request):
        return self.send_feedback(-1, comment, last, request)

    def send_feedback(self, rating: int, comment: str, last: dict | None, request: gr.Request | None):
        if not last:
            return "⚠️ Ask a question first; feedback is about the latest answer."
        try:
            self.feedback.add(FeedbackIn(rating=rating, question=last["question"], answer=last["answer"],
                                         citations=last.get("citations", []), comment=(comment or None),
                                         user=getattr(request, "username", None)))
        except ValidationError as exc:
            return f"⚠️ {user_message(exc)}"
        return "Thank you: feedback saved." if rating > 0 else "Thank you: feedback saved for review."

    # ------------------------------------------------------------------ Plan
    def examples(self) -> dict:
        return example_profiles(self.settings.profiles_dir)

    def load_example(self, key: str):
        profile = self.examples().get(key)
        if profile is None:
            return [gr.update() for _ in FORM_KEYS] + ["⚠️ Pick an example profile first."]
        return self._fill(profile_to_form(profile)) + [f"Loaded example **{key}**. Edit the fields, then draft the plan."]

    def load_upload(self, path: str | None):
        if not path:
            return [gr.update() for _ in FORM_KEYS] + [""]
        try:
            profiles = load_profiles(Path(path))
        except (AdvisorError, ValueError) as exc:
            return [gr.update() for _ in FORM_KEYS] + [f"⚠️ {user_message(exc)}"]
        note = f" (the file holds {len(profiles)} profiles; the first is loaded)" if len(profiles) > 1 else ""
        return self._fill(profile_to_form(profiles[0])) + [f"Loaded **{profiles[0].name}** from the file{note}."]

    def _fill(self, form: ProfileForm) -> list:
        return [getattr(form, k) for k in FORM_KEYS]

    def draft(self, *values, request: gr.Request = None):
        form_values = dict(zip(FORM_KEYS, values))
        hidden = gr.update(value=None, visible=False)
        try:
            form = ProfileForm.model_validate({k: v for k, v in form_values.items() if v not in (None, "")})
            profile = form_to_profile(form)
            plan = self.governance.plan(profile, user=self.user(request))
            plan = self.reviews.create(plan, self.user(request), self.role(request)).plan
        except (AdvisorError, ValidationError, ValueError) as exc:
            return f"⚠️ {user_message(exc)}", "", "", hidden, hidden, None
        summary, markdown, docx_path, md_path = self._render_plan(plan, profile.name)
        return "", summary, markdown, gr.update(value=str(docx_path), visible=True), gr.update(value=str(md_path), visible=True), plan.plan_id

    def _render_plan(self, plan, name: str):
        c = plan.classification
        summary = f"### {c.segment_label}\n`{c.segment}` · plan `{plan.plan_id}` · **{plan.status}**" + "".join(f"\n- {r}" for r in c.reasons)
        if plan.blocking_issues:
            summary += "\n\n**Blocking issues:**" + "".join(f"\n- {b}" for b in plan.blocking_issues)
        stem = "".join(ch if ch.isalnum() else "-" for ch in name.lower())[:40].strip("-") or "plan"
        folder = Path(tempfile.mkdtemp(dir=self.downloads))
        docx_path = folder / f"plan-{stem}.docx"
        md_path = folder / f"plan-{stem}.md"
        docx_path.write_bytes(to_docx(plan))
        markdown = to_markdown(plan)
        md_path.write_text(markdown, encoding="utf-8")
        return summary, markdown, docx_path, md_path

    # ------------------------------------------------------------------ Review
    def submit(self, plan_id: str | None, request: gr.Request = None):
        if not plan_id:
            return "⚠️ Draft a plan first."
        try:
            stored = self.reviews.transition(plan_id, "submit", self.user(request), self.role(request))
        except AdvisorError as exc:
            return f"⚠️ {exc}"
        return f"Plan `{stored.plan_id}` submitted for review."

    def review_queue(self):
        plans = self.reviews.list("submitted")
        choices = [(f"{p.plan_id} · {p.plan.client.get('name', '')} · {p.plan.segment_label}", p.plan_id) for p in plans]
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    def review_show(self, plan_id: str | None) -> str:
        if not plan_id:
            return "_No plan selected._"
        stored = self.reviews.get(plan_id)
        history = "\n".join(f"- {e.at} {e.action} by {e.actor or 'unknown'}" + (f": {e.comment}" if e.comment else "") for e in stored.events)
        return f"**Status:** {stored.status}\n\n{history}\n\n" + to_markdown(stored.plan)

    def review_act(self, plan_id: str | None, action: str, comment: str, request: gr.Request = None):
        hidden = gr.update(value=None, visible=False)
        if not plan_id:
            return "⚠️ Pick a submitted plan first.", hidden
        try:
            stored = self.reviews.transition(plan_id, action, self.user(request), self.role(request), comment or None)
        except AdvisorError as exc:
            return f"⚠️ {exc}", hidden
        if stored.status == "approved":
            folder = Path(tempfile.mkdtemp(dir=self.downloads))
            path = folder / f"approved-plan-{plan_id}.docx"
            path.write_bytes(to_docx(stored.plan))
            return f"Plan `{plan_id}` approved by {stored.plan.approved_by}; it is now frozen.", gr.update(value=str(path), visible=True)
        return f"Plan `{plan_id}` returned to the relationship manager with your comment.", hidden

    def approve(self, plan_id, comment, request: gr.Request = None):
        return self.review_act(plan_id, "approve", comment, request)

    def send_back(self, plan_id, comment, request: gr.Request = None):
        return self.review_act(plan_id, "return", comment, request)

    # ------------------------------------------------------------------ Knowledge
    def stats_markdown(self) -> str:
        try:
            s = self.advisor.stats()
        except AdvisorError as exc:
            return f"⚠️ {exc}"
        return (f"**{s.documents}** documents · **{s.chunks}** chunks · knowledge version `{s.knowledge_version}` · "
                f"last ingest {s.last_ingest} · {s.location}")

    def topic_docs(self, topic: str):
        docs = [d for d in list_documents(self.advisor) if topic in (None, "", ANY) or topic in d.topics]
        choices = [(f"{d.title} ({d.source})", d.id) for d in docs]
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    def read(self, doc_id: str | None) -> str:
        return read_document(self.advisor, doc_id) if doc_id else ""

    def upload(self, files: list | None, progress=gr.Progress()):
        if not files:
            return "⚠️ Choose one or more files (md, txt, pdf, docx) first.", self.stats_markdown()
        pairs = [(Path(f), Path(getattr(f, "orig_name", None) or f).name) for f in files]
        progress(0, desc="checking files")
        try:
            report = store_uploads(self.advisor, pairs, progress=lambda done, total, doc: progress(done / max(total, 1), desc=f"embedding {doc}"))
        except AdvisorError as exc:
            return f"⚠️ {exc}", self.stats_markdown()
        lines = [f"✅ added: {name}" for name in report.accepted]
        lines += [f"❌ rejected {r.name}: {r.reason}" for r in report.rejected]
        if report.ingest:
            lines.append(report.ingest.summary())
        return "\n\n".join(lines), self.stats_markdown()

    # ------------------------------------------------------------------ API
    def api_ask(self, question: str, k: int = 5, filters: dict | None = None) -> dict:
        """Answer a question with citations. `filters`: {"source"|"topics"|"audience"|"segments": value}."""
        try:
            answer = self.governance.ask(AskRequest(question=question, k=k, filters=filters or {}))
        except (AdvisorError, ValidationError, ValueError) as exc:
            raise gr.Error(user_message(exc)) from exc
        return answer.model_dump(mode="json", include={"question", "answer", "grounded", "citations", "warnings", "suggestions",
                                                       "composer", "audit_id", "disclaimer"})

    def api_classify(self, profile: dict) -> dict:
        """Segment a client profile (the JSON profile format in the README)."""
        try:
            return classify(validate_profile(profile), rules_for(self.settings.rules_dir)).model_dump(mode="json")
        except (AdvisorError, ValidationError, ValueError) as exc:
            raise gr.Error(user_message(exc)) from exc

    def api_plan(self, profile: dict) -> dict:
        """Draft a cited client service plan; returns the plan JSON and its Markdown."""
        import json

        try:
            plan = self.governance.plan(validate_profile(profile))
        except (AdvisorError, ValidationError, ValueError) as exc:
            raise gr.Error(user_message(exc)) from exc
        return {"plan": json.loads(to_json(plan)), "markdown": to_markdown(plan)}


def build_app(advisor: Advisor, training_tab=None, auth=None) -> gr.Blocks:
    ui = AdvisorUI(advisor, auth)
    examples = list(ui.examples())
    with gr.Blocks(title="Strategy Advisor", analytics_enabled=False) as demo:
        gr.Markdown("# Strategy Advisor\nGrounded answers, client plans and training from the bank's knowledge base.")
        with gr.Tab("Ask", id="ask"):
            turns = gr.State([])
            last = gr.State(None)
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Conversation", height=460, elem_id="chat")
                    question = gr.Textbox(label="Your question", placeholder="e.g. How should a city commercial bank tier its retail clients?",
                                          elem_id="question", lines=2)
                    ask_error = gr.Markdown(elem_id="ask-error", elem_classes="error-box")
                    with gr.Row():
                        send = gr.Button("Ask", variant="primary", elem_id="ask-button")
                        clear = gr.Button("New conversation")
                    with gr.Accordion("Filters", open=False):
                        with gr.Row():
                            source = gr.Dropdown(SOURCES, value=ANY, label="Source")
                            audience = gr.Dropdown(AUDIENCES, value=ANY, label="Audience")
                            segment = gr.Dropdown(SEGMENTS, value=ANY, label="Segment")
                    with gr.Row():
                        up = gr.Button("Helpful", size="sm", elem_id="thumbs-up")
                        down = gr.Button("Not helpful", size="sm", elem_id="thumbs-down")
                        comment = gr.Textbox(placeholder="Optional comment on the latest answer", show_label=False, scale=3)
                    feedback_note = gr.Markdown(elem_id="feedback-note")
                with gr.Column(scale=2):
                    gr.Markdown("### Cited passages")
                    sources = gr.Markdown("_Ask a question to see the passages behind the answer._", elem_id="sources",
                                          elem_classes="cited")
            ask_inputs = [question, chatbot, turns, source, audience, segment]
            ask_outputs = [chatbot, turns, sources, ask_error, question, last]
            send.click(ui.ask_stream, ask_inputs, ask_outputs, api_visibility="private")
            question.submit(ui.ask_stream, ask_inputs, ask_outputs, api_visibility="private")
            clear.click(lambda: ([], [], "_Ask a question to see the passages behind the answer._", None), None,
                        [chatbot, turns, sources, last], api_visibility="private")
            up.click(ui.feedback_up, [comment, last], feedback_note, api_visibility="private")
            down.click(ui.feedback_down, [comment, last], feedback_note, api_visibility="private")

        with gr.Tab("Plan", id="plan"):
            with gr.Row():
                with gr.Column(scale=2):
                    with gr.Row():
                        example = gr.Dropdown(examples, label="Example profile", value=None, elem_id="example")
                        load = gr.Button("Load example", elem_id="load-example")
                    upload_profile = gr.File(label="…or upload a profile (JSON/YAML)", file_types=[".json", ".yaml", ".yml"], type="filepath")
                    client_type = gr.Radio(["enterprise", "individual"], value="enterprise", label="Client type", elem_id="client-type")
                    name = gr.Textbox(label="Name", elem_id="name")
                    region = gr.Textbox(label="Region")
                    relationship_years = gr.Number(label="Years with the bank", value=None)
                    with gr.Group(visible=True) as enterprise_box:
                        industry = gr.Dropdown(list(INDUSTRIES), label="Industry (2011 SME standard)", value=None)
                        ownership = gr.Dropdown(["state-owned", "private", "listed-private", "local-government-platform", "foreign",
                                                 "collective", "individual-business"], label="Ownership", value=None)
                        employees = gr.Number(label="Employees", value=None)
                        revenue = gr.Number(label="Operating revenue (RMB yuan)", value=None)
                        assets = gr.Number(label="Total assets (RMB yuan)", value=None)
                        rating = gr.Textbox(label="Credit rating")
                        role = gr.Dropdown(["none", "supplier", "dealer", "anchor"], label="Supply-chain role", value=None)
                        anchor = gr.Textbox(label="Anchor firm")
                    with gr.Group(visible=False) as individual_box:
                        age = gr.Number(label="Age", value=None)
                        occupation = gr.Textbox(label="Occupation")
                        aum = gr.Number(label="AUM at the bank (RMB yuan)", value=None)
                        income = gr.Number(label="Annual income (RMB yuan)", value=None)
                        family = gr.Dropdown(["single", "couple", "young-children", "older-children", "empty-nest", "retired"],
                                             label="Family situation", value=None)
                        dependents = gr.Number(label="Dependents", value=None)
                        appetite = gr.Dropdown(["C1", "C2", "C3", "C4", "C5"], label="Risk appetite", value=None)
                        goals = gr.Textbox(label="Goals (one per line)", lines=2)
                        owner = gr.Checkbox(label="Business owner")
                    products = gr.Textbox(label="Products held (one per line)", lines=2)
                    needs = gr.Textbox(label="Stated needs (one per line)", lines=3)
                    form_note = gr.Markdown(elem_id="form-note")
                    plan_error = gr.Markdown(elem_id="plan-error", elem_classes="error-box")
                    draft = gr.Button("Draft plan", variant="primary", elem_id="draft-plan")
                with gr.Column(scale=3):
                    segment_box = gr.Markdown(elem_id="segment")
                    with gr.Row():
                        docx_file = gr.DownloadButton("Download DOCX", visible=False, elem_id="download-docx")
                        md_file = gr.DownloadButton("Download Markdown", visible=False, elem_id="download-md")
                    with gr.Row():
                        submit_review = gr.Button("Submit for review", elem_id="submit-review")
                    review_note = gr.Markdown(elem_id="review-note")
                    preview = gr.Markdown(elem_id="plan-preview")
            plan_id = gr.State(None)
            with gr.Accordion("Review and approve (managers)", open=False):
                with gr.Row():
                    queue = gr.Dropdown([], label="Submitted plans", elem_id="review-queue")
                    refresh_queue = gr.Button("Refresh", size="sm")
                review_comment = gr.Textbox(label="Reviewer comment (required to return)")
                with gr.Row():
                    approve = gr.Button("Approve", variant="primary", elem_id="approve")
                    send_back = gr.Button("Return with comments", elem_id="return")
                review_result = gr.Markdown(elem_id="review-result")
                approved_docx = gr.DownloadButton("Download approved DOCX", visible=False)
                review_view = gr.Markdown()
            fields = {"client_type": client_type, "name": name, "region": region, "relationship_years": relationship_years,
                      "products_held": products, "stated_needs": needs, "industry": industry, "ownership": ownership,
                      "employees": employees, "operating_revenue_rmb": revenue, "total_assets_rmb": assets,
                      "credit_rating": rating, "supply_chain_role": role, "anchor_firm": anchor, "age": age,
                      "occupation": occupation, "aum_rmb": aum, "annual_income_rmb": income, "family_situation": family,
                      "dependents": dependents, "risk_appetite": appetite, "goals": goals, "business_owner": owner}
            assert set(fields) == set(FORM_KEYS) and set(ENTERPRISE_FIELDS) | set(INDIVIDUAL_FIELDS) <= set(fields)
            form_components = [fields[k] for k in FORM_KEYS]
            client_type.change(lambda t: (gr.update(visible=t == "enterprise"), gr.update(visible=t == "individual")),
                               client_type, [enterprise_box, individual_box], api_visibility="private")
            load.click(ui.load_example, example, form_components + [form_note], api_visibility="private")
            upload_profile.change(ui.load_upload, upload_profile, form_components + [form_note], api_visibility="private")
            draft.click(ui.draft, form_components, [plan_error, segment_box, preview, docx_file, md_file, plan_id], api_visibility="private")
            submit_review.click(ui.submit, plan_id, review_note, api_visibility="private")
            refresh_queue.click(ui.review_queue, None, queue, api_visibility="private")
            queue.change(ui.review_show, queue, review_view, api_visibility="private")
            approve.click(ui.approve, [queue, review_comment], [review_result, approved_docx], api_visibility="private")
            send_back.click(ui.send_back, [queue, review_comment], [review_result, approved_docx], api_visibility="private")

        with gr.Tab("Training", id="training"):
            if training_tab is not None:
                training_tab(advisor)
            else:
                gr.Markdown("### Training is coming\nThe onboarding curriculum, the bilingual glossary with search and "
                            "graded quizzes will appear here.")

        with gr.Tab("Knowledge", id="knowledge"):
            stats = gr.Markdown(ui.stats_markdown, elem_id="stats")
            with gr.Row():
                with gr.Column(scale=1):
                    docs = list_documents(advisor)
                    topic = gr.Dropdown([ANY] + topics(docs), value=ANY, label="Topic")
                    doc = gr.Dropdown([(f"{d.title} ({d.source})", d.id) for d in docs], label="Document",
                                      value=docs[0].id if docs else None)
                    gr.Markdown("### Add the bank's own documents")
                    files = gr.File(label="md, txt, pdf or docx", file_count="multiple", type="filepath", elem_id="upload-docs")
                    add = gr.Button("Add to knowledge base", elem_id="add-docs")
                    upload_report = gr.Markdown(elem_id="upload-report")
                    refresh = gr.Button("Refresh statistics", size="sm")
                with gr.Column(scale=2):
                    reader = gr.Markdown(ui.read(docs[0].id) if docs else "", elem_id="reader")
            topic.change(ui.topic_docs, topic, doc, api_visibility="private")
            doc.change(ui.read, doc, reader, api_visibility="private")
            add.click(ui.upload, files, [upload_report, stats], api_visibility="private")
            refresh.click(ui.stats_markdown, None, stats, api_visibility="private")

        gr.api(ui.api_ask, api_name="ask", concurrency_limit=4)
        gr.api(ui.api_classify, api_name="classify", concurrency_limit=4)
        gr.api(ui.api_plan, api_name="plan", concurrency_limit=2)
    return demo
