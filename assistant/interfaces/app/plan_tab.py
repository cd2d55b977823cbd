"""The Plan tab: a client form, example profiles and uploads, the cited plan, review and approval."""

from __future__ import annotations

import os
from pathlib import Path
from typing import get_args

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
from pydantic import ValidationError

from assistant.clients.chinese import rule_zh, segment_name_zh
from assistant.clients.exports import STATUS_ZH, to_docx, to_markdown
from assistant.clients.forms import (
    ENTERPRISE_FIELDS,
    INDIVIDUAL_FIELDS,
    ProfileForm,
    form_to_profile,
    profile_to_form,
)
from assistant.clients.profiles import (
    FamilySituation,
    Ownership,
    RiskAppetite,
    SupplyChainRole,
    example_profiles,
    load_profiles,
    validate_profile,
)
from assistant.clients.rules import INDUSTRIES, rules_for
from assistant.errors import AdvisorError
from assistant.interfaces.app.common import FORM_KEYS, AppContext, industry_labels, user_message
from assistant.interfaces.app.wording import choices, page_language, say, tr


class PlanTab:
    """Callbacks of the Plan tab; ``build()`` lays it out inside an open ``gr.Blocks``.

    >>> plan = PlanTab(AppContext(advisor))
    >>> with gr.Blocks():
    ...     plan.build(list(plan.examples()))
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def examples(self) -> dict:
        return example_profiles(self.ctx.settings.profiles_dir)

    def load_example(self, key: str, request: gr.Request = None):
        lang = page_language(request)
        profile = self.examples().get(key)
        if profile is None:
            return [gr.update() for _ in FORM_KEYS] + ["⚠️ " + say(lang, "Pick an example profile first.")]
        return self._fill(profile_to_form(profile)) + [say(lang, "Loaded example **{key}**. Edit the fields, then draft the plan.", key=key)]

    def load_upload(self, path: str | None, request: gr.Request = None):
        if not path:
            return [gr.update() for _ in FORM_KEYS] + [""]
        lang = page_language(request)
        try:
            profiles = load_profiles(Path(path))
        except (AdvisorError, ValueError) as exc:
            return [gr.update() for _ in FORM_KEYS] + [f"⚠️ {user_message(exc, lang)}"]
        note = say(lang, " (the file holds {count} profiles; the first is loaded)", count=len(profiles)) if len(profiles) > 1 else ""
        return self._fill(profile_to_form(profiles[0])) + [say(lang, "Loaded **{name}** from the file{note}.", name=profiles[0].name, note=note)]

    def draft_for_client(self, client: dict | None, language: str = "en", request: gr.Request = None):
        """The Ask tab's "Draft full plan": the conversation's client fills this form and the plan is drafted."""
        profile = (client or {}).get("profile")
        if not profile:
            return ([gr.update() for _ in FORM_KEYS] + [gr.update()] * 6
                    + ["", "⚠️ " + say(page_language(request), "No client with a decided segment yet: describe one in the chat or "
                                                               "fill the client panel."), gr.Tabs()])
        values = self._fill(profile_to_form(validate_profile(profile)))
        said = say(page_language(request), "Drafted from the client in the Ask tab ({name}).", name=profile.get("name"))
        return values + list(self.draft(request, language, *values)) + [said,
                                                                     "", gr.Tabs(selected="plan")]

    def _fill(self, form: ProfileForm) -> list:
        return [getattr(form, k) for k in FORM_KEYS]

    def draft(self, request: gr.Request, language: str, *values):
        """``request`` comes first: Gradio fills in only positional ``gr.Request`` parameters (a keyword-only one
        after ``*values`` stayed None, and drafts were recorded without their author)."""
        form_values = dict(zip(FORM_KEYS, values))
        hidden = gr.update(value=None, visible=False)
        try:
            form = ProfileForm.model_validate({k: v for k, v in form_values.items() if v not in (None, "")})
            profile = form_to_profile(form)
            plan = self.ctx.governance.plan(profile, user=self.ctx.user(request), language=language or "en")
            plan = self.ctx.reviews.create(plan, self.ctx.user(request), self.ctx.role(request)).plan
        except (AdvisorError, ValidationError, ValueError) as exc:
            return f"⚠️ {user_message(exc, page_language(request))}", "", "", hidden, hidden, None
        summary, markdown, docx_path, md_path = self._render_plan(plan, profile.name)
        return "", summary, markdown, gr.update(value=str(docx_path), visible=True), gr.update(value=str(md_path), visible=True), plan.plan_id

    def _render_plan(self, plan, name: str):
        c = plan.classification
        if plan.language == "zh":
            rule = rule_zh(plan.client, c, rules_for(self.ctx.settings.rules_dir))
            summary = (f"### {segment_name_zh(c.segment, c.segment_label)}\n`{c.segment}` · 方案 `{plan.plan_id}` · "
                       f"**{STATUS_ZH.get(plan.status, plan.status)}**" + "".join(f"\n- _读取：_ {r}" for r in c.readings) + f"\n- {rule}")
            blocking = "\n\n**须先处理：**"
        else:
            summary = (f"### {c.segment_label}\n`{c.segment}` · plan `{plan.plan_id}` · **{plan.status}**"
                       + "".join(f"\n- _read:_ {r}" for r in c.readings) + "".join(f"\n- {r}" for r in c.reasons))
            blocking = "\n\n**Blocking issues:**"
        if plan.blocking_issues:
            summary += blocking + "".join(f"\n- {b}" for b in plan.blocking_issues)
        stem = "".join(ch if ch.isalnum() else "-" for ch in name.lower())[:40].strip("-") or "plan"
        folder = self.ctx.downloads.folder()
        docx_path = folder / f"plan-{stem}.docx"
        md_path = folder / f"plan-{stem}.md"
        docx_path.write_bytes(to_docx(plan))
        markdown = to_markdown(plan)
        md_path.write_text(markdown, encoding="utf-8")
        return summary, markdown, docx_path, md_path

    # ------------------------------------------------------------------ Review
    def submit(self, plan_id: str | None, request: gr.Request = None):
        lang = page_language(request)
        if not plan_id:
            return "⚠️ " + say(lang, "Draft a plan first.")
        try:
            stored = self.ctx.reviews.transition(plan_id, "submit", self.ctx.user(request), self.ctx.role(request))
        except AdvisorError as exc:
            return f"⚠️ {user_message(exc, lang, refused_input=False)}"
        return say(lang, "Plan `{plan_id}` submitted for review.", plan_id=stored.plan_id)

    def review_queue(self):
        plans = self.ctx.reviews.list("submitted")
        choices = [(f"{p.plan_id} · {p.plan.client.get('name', '')} · {p.plan.segment_label}", p.plan_id) for p in plans]
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    def review_show(self, plan_id: str | None) -> str:
        if not plan_id:
            return tr("_No plan selected._")
        stored = self.ctx.reviews.get(plan_id)
        history = "\n".join(f"- {e.at} {e.action} by {e.actor or 'unknown'}" + (f": {e.comment}" if e.comment else "") for e in stored.events)
        return f"**Status:** {stored.status}\n\n{history}\n\n" + to_markdown(stored.plan)

    def review_act(self, plan_id: str | None, action: str, comment: str, request: gr.Request = None):
        hidden = gr.update(value=None, visible=False)
        lang = page_language(request)
        if not plan_id:
            return "⚠️ " + say(lang, "Pick a submitted plan first."), hidden
        try:
            stored = self.ctx.reviews.transition(plan_id, action, self.ctx.user(request), self.ctx.role(request), comment or None)
        except AdvisorError as exc:
            return f"⚠️ {user_message(exc, lang, refused_input=False)}", hidden
        if stored.status == "approved":
            path = self.ctx.downloads.folder() / f"approved-plan-{plan_id}.docx"
            path.write_bytes(to_docx(stored.plan))
            p = stored.plan
            unknown = say(lang, "unknown")
            return (say(lang, "Plan `{plan_id}` approved by {approver} (drafted by {drafter}, submitted by {submitter}); it is now frozen.",
                        plan_id=plan_id, approver=p.approved_by, drafter=p.drafted_by or unknown, submitter=p.submitted_by or unknown),
                    gr.update(value=str(path), visible=True))
        return say(lang, "Plan `{plan_id}` returned to the relationship manager with your comment.", plan_id=plan_id), hidden

    def approve(self, plan_id, comment, request: gr.Request = None):
        return self.review_act(plan_id, "approve", comment, request)

    def send_back(self, plan_id, comment, request: gr.Request = None):
        return self.review_act(plan_id, "return", comment, request)

    def build(self, examples: list) -> None:
        with gr.Tab(tr("Plan"), id="plan"):
            with gr.Row():
                with gr.Column(scale=2):
                    with gr.Row():
                        example = gr.Dropdown(examples, label=tr("Example profile"), value=None, elem_id="example")
                        load = gr.Button(tr("Load example"), elem_id="load-example")
                    upload_profile = gr.File(label=tr("…or upload a profile (JSON/YAML)"), file_types=[".json", ".yaml", ".yml"], type="filepath")
                    fields = self._profile_fields()
                    form_note = gr.Markdown(elem_id="form-note")
                    plan_error = gr.Markdown(elem_id="plan-error", elem_classes="error-box")
                    self.language = gr.Radio([("English", "en"), ("中文", "zh")], value="en", label=tr("Plan language"),
                                             elem_id="plan-language")
                    with gr.Row():
                        draft = gr.Button(tr("Draft plan"), variant="primary", elem_id="draft-plan")
                        self.discuss = gr.Button(tr("Discuss in Ask"), elem_id="discuss-in-ask")
                with gr.Column(scale=3):
                    segment_box = gr.Markdown(elem_id="segment")
                    with gr.Row():
                        docx_file = gr.DownloadButton(tr("Download DOCX"), visible=False, elem_id="download-docx")
                        md_file = gr.DownloadButton(tr("Download Markdown"), visible=False, elem_id="download-md")
                    with gr.Row():
                        submit_review = gr.Button(tr("Submit for review"), elem_id="submit-review")
                    review_note = gr.Markdown(elem_id="review-note")
                    preview = gr.Markdown(elem_id="plan-preview")
            plan_id = gr.State(None)
            self._review_panel()
            form_components = [fields[k] for k in FORM_KEYS]
            self.form_components, self.form_note = form_components, form_note
            self.draft_outputs = [plan_error, segment_box, preview, docx_file, md_file, plan_id]
            load.click(self.load_example, example, form_components + [form_note], api_visibility="private")
            upload_profile.change(self.load_upload, upload_profile, form_components + [form_note], api_visibility="private")
            draft.click(self.draft, [self.language, *form_components], [plan_error, segment_box, preview, docx_file, md_file, plan_id],
                        api_visibility="private")
            submit_review.click(self.submit, plan_id, review_note, api_visibility="private")

    def _profile_fields(self) -> dict:
        """One widget per ProfileForm field; the enterprise or individual group shows as the type asks."""
        f = {"client_type": gr.Radio(choices(["enterprise", "individual"]), value="enterprise", label=tr("Client type"), elem_id="client-type"),
             "name": gr.Textbox(label=tr("Name"), elem_id="name"), "region": gr.Textbox(label=tr("Region")),
             "relationship_years": gr.Number(label=tr("Years with the bank"), value=None)}
        with gr.Group(visible=True) as enterprise_box:
            f["industry"] = gr.Dropdown(choices(INDUSTRIES, industry_labels(self.ctx.settings)), label=tr("Industry (2011 SME standard)"), value=None)
            f["ownership"] = gr.Dropdown(choices(get_args(Ownership)), label=tr("Ownership"), value=None, elem_id="ownership")
            f["employees"] = gr.Number(label=tr("Employees"), value=None)
            f["operating_revenue_rmb"] = gr.Number(label=tr("Operating revenue (RMB yuan)"), value=None)
            f["total_assets_rmb"] = gr.Number(label=tr("Total assets (RMB yuan)"), value=None)
            f["credit_rating"] = gr.Textbox(label=tr("Credit rating"))
            f["supply_chain_role"] = gr.Dropdown(choices(get_args(SupplyChainRole)), label=tr("Supply-chain role"), value=None)
            f["anchor_firm"] = gr.Textbox(label=tr("Anchor firm"))
        with gr.Group(visible=False) as individual_box:
            f["age"] = gr.Number(label=tr("Age"), value=None)
            f["occupation"] = gr.Textbox(label=tr("Occupation"))
            f["aum_rmb"] = gr.Number(label=tr("AUM at the bank (RMB yuan)"), value=None)
            f["annual_income_rmb"] = gr.Number(label=tr("Annual income (RMB yuan)"), value=None)
            f["family_situation"] = gr.Dropdown(choices(get_args(FamilySituation)), label=tr("Family situation (or describe it: "
                                                   "'married, two children aged 5 and 8')"), value=None, allow_custom_value=True)
            f["dependents"] = gr.Number(label=tr("Dependents"), value=None)
            f["risk_appetite"] = gr.Dropdown(choices(get_args(RiskAppetite)), label=tr("Risk appetite (C1-C5, or e.g. 'balanced', '稳健型')"),
                                             value=None, allow_custom_value=True)
            f["goals"] = gr.Textbox(label=tr("Goals (one per line)"), lines=2)
            f["business_owner"] = gr.Checkbox(label=tr("Business owner"))
        f["products_held"] = gr.Textbox(label=tr("Products held (one per line)"), lines=2)
        f["stated_needs"] = gr.Textbox(label=tr("Stated needs (one per line)"), lines=3)
        assert set(f) == set(FORM_KEYS) and set(ENTERPRISE_FIELDS) | set(INDIVIDUAL_FIELDS) <= set(f)
        f["client_type"].change(lambda t: (gr.update(visible=t == "enterprise"), gr.update(visible=t == "individual")),
                                f["client_type"], [enterprise_box, individual_box], api_visibility="private")
        return f

    def _review_panel(self) -> None:
        with gr.Accordion(tr("Review and approve (managers)"), open=False):
            with gr.Row():
                queue = gr.Dropdown([], label=tr("Submitted plans"), elem_id="review-queue")
                refresh_queue = gr.Button(tr("Refresh"), size="sm")
            review_comment = gr.Textbox(label=tr("Reviewer comment (required to return)"))
            with gr.Row():
                approve = gr.Button(tr("Approve"), variant="primary", elem_id="approve")
                send_back = gr.Button(tr("Return with comments"), elem_id="return")
            review_result = gr.Markdown(elem_id="review-result")
            approved_docx = gr.DownloadButton(tr("Download approved DOCX"), visible=False)
            review_view = gr.Markdown()
        refresh_queue.click(self.review_queue, None, queue, api_visibility="private")
        queue.change(self.review_show, queue, review_view, api_visibility="private")
        approve.click(self.approve, [queue, review_comment], [review_result, approved_docx], api_visibility="private")
        send_back.click(self.send_back, [queue, review_comment], [review_result, approved_docx], api_visibility="private")
