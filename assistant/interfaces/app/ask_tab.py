"""The Ask tab: a multi-turn cited chat with filters, cited passages and feedback, and the conversation's
client (typed in the chat, picked, loaded, or sent from the Plan tab) in an editable panel."""

from __future__ import annotations

from itertools import chain
from pathlib import Path

import gradio as gr
from pydantic import ValidationError

from assistant.clients.profiles import example_profiles, load_profiles
from assistant.clients.situation.state import ClientState
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
    industry_labels,
    render_sources,
    user_message,
)
from assistant.interfaces.app.client_panel import ClientPanel, state_of
from assistant.interfaces.chat import ChatRequest, Turn
from assistant.interfaces.app.wording import choices, page_language, say, tr

NO_SOURCES = tr("_Ask a question to see the passages behind the answer._")


class AskTab:
    """Callbacks of the Ask tab; ``build()`` lays it out inside an open ``gr.Blocks``.

    >>> with gr.Blocks():
    ...     AskTab(AppContext(advisor)).build()
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.panel = ClientPanel(industry_labels(ctx.settings))

    def ask_stream(self, question: str, messages: list, turns: list, client: dict | None, source: str, audience: str, segment: str,
                   request: gr.Request):
        """Stream the answer into the chat. Nothing shows until its audit record is started; if the
        record cannot be completed, the text shown so far is withdrawn and the reason given."""
        messages = list(messages or [])
        history = [Turn.model_validate(t) for t in (turns or [])]
        hold = self.panel.unchanged()
        try:
            chat_request = ChatRequest(question=question or "", history=history, filters=filters_of(source, audience, segment),
                                       client=state_of(client))
            updates = self.ctx.chat.respond(chat_request, self.ctx.user(request))
            first = next(updates)
        except (AdvisorError, ValidationError, ValueError) as exc:
            yield messages, turns, gr.update(), f"⚠️ {user_message(exc, page_language(request))}", question, None, client, *hold
            return
        shown = messages + [{"role": "user", "content": question}, {"role": "assistant", "content": first.partial}]
        yield shown, turns, gr.update(), "", "", None, client, *hold   # the question moves into the chat
        final = first
        try:
            # from here the question box is left alone: what the user starts typing while the answer streams
            # is the next question (a later "" wiped it, and a follow-up typed early was never asked)
            for update in chain([first], updates):
                shown[-1] = {"role": "assistant", "content": update.partial if not update.done else answer_markdown(update.answer)}
                final = update if update.done else final
                yield shown, turns, gr.update(), "", gr.update(), None, client, *hold
        except AdvisorError as exc:
            withdrawn = shown[:-1] + [{"role": "assistant", "content": "⚠️ " + say(page_language(request), "Answer withdrawn:") + f" {exc}"}]
            yield withdrawn, turns, gr.update(), f"⚠️ {user_message(exc, page_language(request), refused_input=False)}", question, None, client, *hold
            return
        answer = final.answer
        history += [Turn(role="user", content=question, query=answer.retrieval_query or question.strip()),
                    Turn(role="assistant", content=answer.answer)]
        turn = final.client_turn
        panel = self.panel.values(final.client, turn.read_as) if turn else hold
        yield (shown, [t.model_dump() for t in history], self._sources(answer, turn, page_language(request)), "", gr.update(),
               answer.model_dump(mode="json"),
               final.client.model_dump(mode="json") if final.client else None, *panel)

    @staticmethod
    def _sources(answer, turn, language: str = "en") -> str:
        if turn is not None and turn.kind == "question":
            return say(language, "_One fact that decides the segment is missing; the answer will cite the passages once it is known._")
        if turn is not None and turn.kind == "cleared":
            return NO_SOURCES
        return render_sources(answer, language)

    # ------------------------------------------------------------------ the client panel
    def _start(self, state: ClientState, said: str, messages: list, turns: list, request: gr.Request | None):
        """Recommend for a client set outside the chat, shown as one exchange in the conversation."""
        messages = list(messages or [])
        turn = self.ctx.governance.advise_start(state, self.ctx.user(request))
        messages += [{"role": "user", "content": said}, {"role": "assistant", "content": answer_markdown(turn.answer)}]
        return (messages, turns, self._sources(turn.answer, turn, page_language(request)), "", turn.answer.model_dump(mode="json"),
                turn.state.model_dump(mode="json") if turn.state else None, *self.panel.values(turn.state, turn.read_as))

    def _refused(self, message: str, messages, turns, client):
        """The client was not changed; ``message`` says why, in the page's language."""
        return messages, turns, gr.update(), f"⚠️ {message}", gr.update(), client, *self.panel.unchanged()

    def update_client(self, request: gr.Request, client: dict | None, *values_and_chat):
        """``request`` comes first: Gradio fills in only positional ``gr.Request`` parameters (a keyword-only one
        after ``*values_and_chat`` stayed None: the edit read in English and was audited without its user)."""
        *values, messages, turns = values_and_chat
        language = page_language(request)
        try:
            state = self.ctx.governance.clients.edit(state_of(client), list(values), language)
            return self._start(state, say(language, "✎ Edited the client in the panel."), messages, turns, request)
        except (AdvisorError, ValidationError, ValueError) as exc:
            return self._refused(user_message(exc, language), messages, turns, client)

    def use_example(self, key: str | None, messages: list, turns: list, client: dict | None, request: gr.Request = None):
        profile = example_profiles(self.ctx.settings.profiles_dir).get(key or "")
        language = page_language(request)
        if profile is None:
            return self._refused(say(language, "Pick an example client first."), messages, turns, client)
        state = ClientState.from_profile(profile, "example", self.ctx.governance.clients.rules, language)
        return self._start(state, say(language, "Use the example client **{key}**.", key=key), messages, turns, request)

    def load_file(self, path: str | None, messages: list, turns: list, client: dict | None, request: gr.Request = None):
        language = page_language(request)
        if not path:
            return self._refused(say(language, "Choose a JSON or YAML profile file first."), messages, turns, client)
        try:
            profile = load_profiles(Path(path))[0]
            state = ClientState.from_profile(profile, "file", self.ctx.governance.clients.rules, language)
            return self._start(state, say(language, "Load the client **{name}** from a file.", name=profile.name),
                               messages, turns, request)
        except (AdvisorError, ValidationError, ValueError) as exc:
            return self._refused(user_message(exc, language), messages, turns, client)

    def forget(self, messages: list, turns: list, request: gr.Request = None):
        said = say(page_language(request), "Forgot the client: the next questions are answered in general, not for a client.")
        messages = list(messages or []) + [{"role": "assistant", "content": said}]
        return messages, turns, NO_SOURCES, "", None, None, *self.panel.values(None)

    def from_plan_tab(self, request: gr.Request, *form_and_chat):
        """The Plan tab's "Discuss in Ask": the form's client becomes the conversation's client (``request``
        first, as in ``update_client``)."""
        *form_values, messages, turns, client = form_and_chat
        language = page_language(request)
        try:
            profile = self.ctx.form_profile(form_values)
            state = ClientState.from_profile(profile, "plan", self.ctx.governance.clients.rules, language)
            said = say(language, "Discuss **{name}** (sent from the Plan tab).", name=profile.name)
            return (*self._start(state, said, messages, turns, request),
                    gr.Tabs(selected="ask"))
        except (AdvisorError, ValidationError, ValueError) as exc:
            return (*self._refused(user_message(exc, language), messages, turns, client), gr.Tabs(selected="ask"))

    def feedback_up(self, comment: str, last: dict | None, request: gr.Request):
        return self.send_feedback(1, comment, last, request)

    def feedback_down(self, comment: str, last: dict | None, request: gr.Request):
        return self.send_feedback(-1, comment, last, request)

    def send_feedback(self, rating: int, comment: str, last: dict | None, request: gr.Request | None):
        if not last:
            return "⚠️ " + say(page_language(request), "Ask a question first; feedback is about the latest answer.")
        try:
            self.ctx.feedback.add(FeedbackIn(rating=rating, question=last["question"], answer=last["answer"],
                                         citations=last.get("citations", []), comment=(comment or None),
                                         user=self.ctx.user(request)))
        except ValidationError as exc:
            return f"⚠️ {user_message(exc, page_language(request))}"
        return tr("Thank you: feedback saved.") if rating > 0 else tr("Thank you: feedback saved for review.")

    def build(self) -> None:
        ui = self
        with gr.Tab(tr("Ask"), id="ask"):
            turns = gr.State([])
            last = gr.State(None)
            self.client = client = gr.State(None)
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label=tr("Conversation"), height=460, elem_id="chat")
                    question = gr.Textbox(label=tr("Your question"), placeholder=tr("e.g. How should a city commercial bank tier its retail clients?"),
                                          elem_id="question", lines=2)
                    ask_error = gr.Markdown(elem_id="ask-error", elem_classes="error-box")
                    with gr.Row():
                        send = gr.Button(tr("Ask"), variant="primary", elem_id="ask-button")
                        clear = gr.Button(tr("New conversation"))
                    with gr.Accordion(tr("Filters"), open=False):
                        with gr.Row():
                            source = gr.Dropdown(choices(SOURCES), value=ANY, label=tr("Source"))
                            audience = gr.Dropdown(choices(AUDIENCES), value=ANY, label=tr("Audience"))
                            segment = gr.Dropdown(choices(SEGMENTS), value=ANY, label=tr("Segment"))
                    with gr.Row():
                        up = gr.Button(tr("Helpful"), size="sm", elem_id="thumbs-up")
                        down = gr.Button(tr("Not helpful"), size="sm", elem_id="thumbs-down")
                        comment = gr.Textbox(placeholder=tr("Optional comment on the latest answer"), show_label=False, scale=3)
                    feedback_note = gr.Markdown(elem_id="feedback-note")
                with gr.Column(scale=2):
                    gr.Markdown(tr("### Client"))
                    self.panel.build(list(example_profiles(self.ctx.settings.profiles_dir)))
                    gr.Markdown(tr("### Cited passages"))
                    sources = gr.Markdown(NO_SOURCES, elem_id="sources",
                                          elem_classes="cited")
            ask_inputs = [question, chatbot, turns, client, source, audience, segment]
            ask_outputs = [chatbot, turns, sources, ask_error, question, last, client, *self.panel.outputs]
            send.click(ui.ask_stream, ask_inputs, ask_outputs, api_visibility="private")
            question.submit(ui.ask_stream, ask_inputs, ask_outputs, api_visibility="private")
            clear.click(lambda: ([], [], NO_SOURCES, None, None, *ui.panel.values(None)), None,
                        [chatbot, turns, sources, last, client, *self.panel.outputs], api_visibility="private")
            self.chatbot, self.turns, self.ask_error = chatbot, turns, ask_error
            self.client_outputs = [chatbot, turns, sources, ask_error, last, client, *self.panel.outputs]
            p = self.panel
            p.update.click(ui.update_client, [client, *p.inputs, chatbot, turns], self.client_outputs, api_visibility="private")
            p.use_example.click(ui.use_example, [p.example, chatbot, turns, client], self.client_outputs, api_visibility="private")
            p.upload.upload(ui.load_file, [p.upload, chatbot, turns, client], self.client_outputs, api_visibility="private")
            p.forget.click(ui.forget, [chatbot, turns], self.client_outputs, api_visibility="private")
            up.click(ui.feedback_up, [comment, last], feedback_note, api_visibility="private")
            down.click(ui.feedback_down, [comment, last], feedback_note, api_visibility="private")
