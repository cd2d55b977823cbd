"""Put the tabs and the named API together into one ``gr.Blocks`` app."""

from __future__ import annotations

import gradio as gr

from assistant.answers.advisor import Advisor
from assistant.interfaces.app.api import Api
from assistant.interfaces.app.ask_tab import AskTab
from assistant.interfaces.app.book_tab import BookTab
from assistant.interfaces.app.common import AppContext
from assistant.interfaces.app.knowledge_tab import KnowledgeTab
from assistant.interfaces.app.plan_tab import PlanTab
from assistant.interfaces.app.wording import page_language, tr


def connect_ask_and_plan(ask: AskTab, plan: PlanTab, tabs: gr.Tabs) -> None:
    """The conversation's client drafts a full plan in the Plan tab; the Plan tab's client can be discussed in Ask."""
    ask.panel.draft.click(plan.draft_for_client, [ask.client, plan.language], [*plan.form_components, *plan.draft_outputs, plan.form_note,
                                                                ask.ask_error, tabs], api_visibility="private")
    plan.discuss.click(ask.from_plan_tab, [*plan.form_components, ask.chatbot, ask.turns, ask.client], [*ask.client_outputs, tabs],
                       api_visibility="private")


def build_app(advisor: Advisor, training_tab=None, auth=None, ctx: AppContext | None = None) -> gr.Blocks:
    """The whole app. Pass ``ctx`` to share its services (stores, downloads) with ``build_api``'s Blocks.

    >>> demo = build_app(Advisor.from_settings(settings), build_training_tab)
    >>> demo.launch(server_name="127.0.0.1")
    """
    ctx = ctx or AppContext(advisor, auth)
    plan = PlanTab(ctx)
    ask = AskTab(ctx)
    book = BookTab(ctx)
    # Gradio keeps its own copies of files it serves (plan downloads, uploaded profiles): drop them after
    # the same age as our downloads, and all of them when the server stops.
    age = advisor.settings.download_max_age
    with gr.Blocks(title="Strategy Advisor", analytics_enabled=False, delete_cache=(min(600, age), age)) as demo:
        gr.Markdown(tr("# Strategy Advisor\nGrounded answers, client plans and training from the bank's knowledge base."))
        with gr.Tabs() as tabs:
            ask.build()
            plan.build(list(plan.examples()))
            with gr.Tab(tr("Training"), id="training"):
                training = training_tab(advisor, auth) if training_tab is not None else None
                if training_tab is None:
                    gr.Markdown(tr("### Training is coming\nThe onboarding curriculum, the bilingual glossary with search and "
                                   "graded quizzes will appear here."))
            book.build()
            KnowledgeTab(ctx).build()
        connect_ask_and_plan(ask, plan, tabs)
        demo.load(page_language, None, plan.language, api_visibility="private")   # plans start in the page's language
        if getattr(training, "language", None) is not None:  # quizzes start in the browser's language too
            demo.load(page_language, None, training.language, api_visibility="private")
        Api(ctx).register()
        book.register_api()
    return demo


def build_api(ctx: AppContext) -> gr.Blocks:
    """The named endpoints alone (/ask, /classify, /plan, /segment), for programs: served beside the app at
    ``/api/`` (see ``server.serve``). Gradio builds a session's state and a client's ``/config`` from every
    component of a Blocks: the whole app has about 200, so each new program connecting through it paid for
    all of them. The endpoints are the same classes over the same ``ctx`` as the app's own, so both answer alike.

    >>> api = build_api(AppContext(advisor, auth))
    >>> gr.mount_gradio_app(fastapi_app, api, "/api")
    """
    with gr.Blocks(title="Strategy Advisor API", analytics_enabled=False) as api:
        gr.Markdown("Strategy Advisor's API for programs: see /api/?view=api, or connect gradio_client to this URL.")
        Api(ctx).register()
        BookTab(ctx).register_api()
    return api
