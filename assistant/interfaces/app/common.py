"""What every tab shares: the services built once per app, error text, answer rendering, filters.

May import: the capability packages (answers, clients, governance, knowledge) and gradio.
"""

from __future__ import annotations

import os
from typing import get_args

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
from pydantic import ValidationError

from assistant.answers.advisor import Advisor
from assistant.answers.answer import Answer
from assistant.clients.forms import ProfileForm, form_to_profile
from assistant.clients.rules import rules_for
from assistant.errors import AdvisorError
from assistant.governance.feedback import feedback_store
from assistant.governance.reviews import review_store
from assistant.governance.service import Governance
from assistant.interfaces.chat import ChatService
from assistant.interfaces.downloads import Downloads
from assistant.interfaces.app.wording import say
from assistant.knowledge.documents import Audience, Segment, Source

ANY = "any"
SOURCES = [ANY, *get_args(Source)]
AUDIENCES = [ANY, *get_args(Audience)]
SEGMENTS = [ANY, *(s for s in get_args(Segment) if s != "all")]
FORM_KEYS = list(ProfileForm.model_fields)
CSS = ".cited {font-size: 0.92em} .error-box {color: #b00020}"


def industry_labels(settings) -> dict[str, str]:
    """The SME table's English industry names (the bank's rules folder), for the industry drop-downs;
    a table that cannot be read leaves the codes, and the plan itself reports the broken table."""
    try:
        return {key: bounds.label for key, bounds in rules_for(settings.rules_dir).sme.industries.items()}
    except (AdvisorError, OSError, ValueError):
        return {}


def user_message(exc: Exception, language: str = "en", refused_input: bool = True, lead: str | None = None) -> str:
    """Why an action failed, as one line. The reason comes from the packages in English and stays so, field names
    exact ("employees: Input should be ..."); a Chinese page gets a Chinese lead before it: ``lead`` (a template
    with ``{detail}``) when the caller knows better, else 输入有误 for input that was refused (``refused_input``
    and a validation or value error), 操作未完成 for anything else."""
    if isinstance(exc, ValidationError):
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    else:
        detail = str(exc)
    if language != "zh":
        return detail
    if lead is not None:
        return say(language, lead, detail=detail)
    if refused_input and isinstance(exc, (ValidationError, ValueError)):
        return say(language, "Input error: {detail}", detail=detail)
    return say(language, "Not done: {detail}", detail=detail)


def render_sources(answer: Answer, language: str = "en") -> str:
    """The passages behind an answer, labelled in the page's language (the passages are as written)."""
    if not answer.citations:
        hint = ("\n\n" + say(language, "Nearest topics:") + " " + "; ".join(answer.suggestions)) if answer.suggestions else ""
        return say(language, "_No passage in the knowledge base answers this question._") + hint
    parts = []
    if answer.retrieval_query:
        parts.append(say(language, "_Searched as:_ {query}", query=answer.retrieval_query))
    for warning in answer.warnings:
        parts.append(f"⚠️ {warning}")
    similarity = say(language, "similarity")
    for c in answer.citations:
        where = f"{c.title} › {c.section}" if c.section else c.title
        parts.append(f"**[{c.n}] {where}**  \n`{c.doc_id}` · {c.source} · {similarity} {c.score:.2f}\n\n> "
                     + c.text.replace("\n", "\n> "))
    composer, audit = say(language, "composer"), say(language, "audit id")
    footer = " · ".join(x for x in (f"{composer}: {answer.composer}", f"{audit}: `{answer.audit_id}`" if answer.audit_id else "") if x)
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



class AppContext:
    """The services the callbacks call, built once per app and shared by every tab.

    >>> ctx = AppContext(Advisor.from_settings(settings))
    >>> ctx.governance.ask(AskRequest(question="What is RAROC?"))
    """

    def __init__(self, advisor: Advisor, auth=None) -> None:
        self.advisor = advisor
        self.settings = advisor.settings
        self.governance = Governance(advisor)
        self.chat = ChatService(self.governance)
        self.reviews = review_store(self.settings)
        self.auth = auth
        self.feedback = feedback_store(self.settings)
        self.downloads = Downloads(self.settings.download_max_age)

    @property
    def login(self) -> bool:
        return self.auth is not None

    def form_profile(self, values: list):
        """The Plan tab's form values (FORM_KEYS order) as a validated profile; ProfileError names bad fields."""
        form = ProfileForm.model_validate({k: v for k, v in zip(FORM_KEYS, values) if v not in (None, "")})
        return form_to_profile(form)

    def user(self, request: gr.Request | None) -> str | None:
        return getattr(request, "username", None) if request is not None else None

    def role(self, request: gr.Request | None):
        return self.auth.role(self.user(request)) if self.auth else None

