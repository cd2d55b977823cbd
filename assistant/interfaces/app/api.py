"""The named API endpoints (/ask, /classify, /plan) for programs using gradio_client."""

from __future__ import annotations

import gradio as gr
from pydantic import ValidationError

from assistant.answers.advisor import AskRequest
from assistant.clients.exports import to_json, to_markdown
from assistant.clients.profiles import validate_profile
from assistant.clients.situation.state import ClientState, general_payload
from assistant.errors import AdvisorError
from assistant.interfaces.app.common import AppContext, user_message


class Api:
    """The endpoints call the same audited package functions as the tabs, as the signed-in user.

    >>> with gr.Blocks():
    ...     Api(AppContext(advisor, auth)).register()
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def api_ask(self, question: str, k: int = 5, filters: dict | None = None, profile: dict | None = None,
                request: gr.Request = None) -> dict:
        """Answer a question with citations. `filters`: {"source"|"topics"|"audience"|"segments": value}. `profile`
        (optional, the JSON profile format): answer for that client. A question that describes a client gets the
        profile read (`client`), its `segment` and a `recommendation`."""
        user = self.ctx.user(request)
        try:
            state = ClientState.from_profile(validate_profile(profile), "explicit", self.ctx.governance.clients.rules) if profile else None
            turn = self.ctx.governance.advise(question, state, user=user)
            if turn.kind == "general":
                answer = self.ctx.governance.ask(AskRequest(question=question, k=k, filters=filters or {}), user=user)
                extra = general_payload()
            else:
                answer, extra = turn.answer, turn.payload()
        except (AdvisorError, ValidationError, ValueError) as exc:
            raise gr.Error(user_message(exc)) from exc
        return {**answer.model_dump(mode="json", include={"question", "answer", "grounded", "citations", "warnings", "suggestions",
                                                          "composer", "audit_id", "disclaimer"}), **extra}

    def api_classify(self, profile: dict, request: gr.Request = None) -> dict:
        """Segment a client profile (the JSON profile format in the README)."""
        try:
            return self.ctx.governance.classify(validate_profile(profile), user=self.ctx.user(request)).model_dump(mode="json")
        except (AdvisorError, ValidationError, ValueError) as exc:
            raise gr.Error(user_message(exc)) from exc

    def api_plan(self, profile: dict, language: str = "en", request: gr.Request = None) -> dict:
        """Draft a cited client service plan (``language`` en or zh); returns the plan JSON and its Markdown."""
        import json

        try:
            plan = self.ctx.governance.plan(validate_profile(profile), user=self.ctx.user(request), language=language)
        except (AdvisorError, ValidationError, ValueError) as exc:
            raise gr.Error(user_message(exc)) from exc
        return {"plan": json.loads(to_json(plan)), "markdown": to_markdown(plan)}


    def register(self) -> None:
        gr.api(self.api_ask, api_name="ask", concurrency_limit=4)
        gr.api(self.api_classify, api_name="classify", concurrency_limit=4)
        gr.api(self.api_plan, api_name="plan", concurrency_limit=2)
