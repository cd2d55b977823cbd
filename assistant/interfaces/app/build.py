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


def build_app(advisor: Advisor, training_tab=None, auth=None) -> gr.Blocks:
    """The whole app.

    >>> demo = build_app(Advisor.from_settings(settings), build_training_tab)
    >>> demo.launch(server_name="127.0.0.1")
    """
    ctx = AppContext(advisor, auth)
    plan = PlanTab(ctx)
    with gr.Blocks(title="Strategy Advisor", analytics_enabled=False) as demo:
        gr.Markdown("# Strategy Advisor\nGrounded answers, client plans and training from the bank's knowledge base.")
        AskTab(ctx).build()
        plan.build(list(plan.examples()))
        with gr.Tab("Training", id="training"):
            if training_tab is not None:
                training_tab(advisor)
            else:
                gr.Markdown("### Training is coming\nThe onboarding curriculum, the bilingual glossary with search and "
                            "graded quizzes will appear here.")
        BookTab(ctx).build()
        KnowledgeTab(ctx).build()
        Api(ctx).register()
    return demo
