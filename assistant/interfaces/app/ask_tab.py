"""The Ask tab: a multi-turn cited chat with filters, cited passages and feedback."""

from __future__ import annotations

import gradio as gr
from pydantic import ValidationError

from assistant.errors import AdvisorError
from assistant.governance.feedback import FeedbackIn
from assistant.interfaces.app.common import (
    ANY,
    AUDIENCES,
    SEGMENTS,
    SOURCES,
    AppContext,
    answer_markdown,
    filters_of,
    render_sources,
    user_message,
)
from assistant.interfaces.chat import ChatRequest, Turn


class AskTab:
    """Callbacks of the Ask tab; ``build()`` lays it out inside an open ``gr.Blocks``."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def ask_stream(self, question: str, messages: list, turns: list, source: str, audience: str, segment: str,
                   request: gr.Request):
        """Stream the answer into the chat. Nothing shows until its audit record is started; if the
        record cannot be completed, the text shown so far is withdrawn and the reason given."""
        messages = list(messages or [])
        history = [Turn.model_validate(t) for t in (turns or [])]
        try:
            chat_request = ChatRequest(question=question or "", history=history, filters=filters_of(source, audience, segment))
            updates = self.ctx.chat.respond(chat_request, self.ctx.user(request))
            first = next(updates)
        except (AdvisorError, ValidationError, ValueError) as exc:
            yield messages, turns, gr.update(), f"⚠️ {user_message(exc)}", question, None
            return
        shown = messages + [{"role": "user", "content": question}, {"role": "assistant", "content": first.partial}]
        yield shown, turns, gr.update(), "", "", None
        final = first.answer
        try:
            for update in updates:
                shown[-1] = {"role": "assistant", "content": update.partial if not update.done else answer_markdown(update.answer)}
                final = update.answer or final
                yield shown, turns, gr.update(), "", "", None
        except AdvisorError as exc:
            withdrawn = shown[:-1] + [{"role": "assistant", "content": f"⚠️ Answer withdrawn: {exc}"}]
            yield withdrawn, turns, gr.update(), f"⚠️ {user_message(exc)}", question, None
            return
        history += [Turn(role="user", content=question, query=final.retrieval_query or question.strip()),
                    Turn(role="assistant", content=final.answer)]
        yield (shown, [t.model_dump() for t in history], render_sources(final), "", "", final.model_dump(mode="json"))

    def feedback_up(self, comment: str, last: dict | None, request: gr.Request):
        return self.send_feedback(1, comment, last, request)

    def feedback_down(self, comment: str, last: dict | None, request: gr.Request):
        return self.send_feedback(-1, comment, last, request)

    def send_feedback(self, rating: int, comment: str, last: dict | None, request: gr.Request | None):
        if not last:
            return "⚠️ Ask a question first; feedback is about the latest answer."
        try:
            self.ctx.feedback.add(FeedbackIn(rating=rating, question=last["question"], answer=last["answer"],
                                         citations=last.get("citations", []), comment=(comment or None),
                                         user=self.ctx.user(request)))
        except ValidationError as exc:
            return f"⚠️ {user_message(exc)}"
        return "Thank you: feedback saved." if rating > 0 else "Thank you: feedback saved for review."

    def build(self) -> None:
        ui = self
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
