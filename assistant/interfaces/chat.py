"""Multi-turn chat: follow-ups are rewritten into standalone queries before retrieval.

"And for retail clients?" retrieves nothing useful on its own; joined with the question it follows
("How should a city commercial bank segment customers? for retail clients") it does. The rewrite is
deterministic, so the same conversation retrieves the same passages, and it is shown to the user.

A conversation can also be about a client: a message that describes one is read into a profile and answered
with a recommendation, and later questions are answered for that client until it is forgotten; the request
carries the client (``ChatRequest.client``) and each update returns it, so the service keeps no per-user state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from typing import Literal

from pydantic import BaseModel, Field

from assistant.answers.advisor import AskRequest
from assistant.answers.answer import Answer
from assistant.clients.situation.state import ClientReply, ClientState
from assistant.governance.service import Governance
from assistant.search.framing import topic_of

FOLLOW_UP_START = re.compile(
    r"^(and|also|what about|how about|and what about|then|so|but|or|same for|what if|why|how|in that case|for)\b[\s,]*",
    re.I)
ANAPHORA = re.compile(r"\b(it|its|they|them|their|this|that|these|those|such|there|he|she|him|her)\b", re.I)
ZH_FOLLOW_UP = re.compile(r"^(那|那么|还有|另外|如果|对于|而)")


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str
    query: str | None = Field(None, description="The standalone query a user turn was answered with.")


class ChatRequest(BaseModel):
    question: str
    history: list[Turn] = Field(default_factory=list)
    filters: dict[str, str] = Field(default_factory=dict)
    k: int | None = None
    client: ClientState | None = Field(None, description="The client the conversation is about, if any.")


class ChatUpdate(BaseModel):
    """One streamed step: the answer so far, and the final Answer on the last step."""

    partial: str
    done: bool = False
    answer: Answer | None = None
    client: ClientState | None = Field(None, description="The conversation's client after this turn (None: no client).")
    client_turn: ClientReply | None = Field(None, description="What was read and recommended, when the turn was about a client.")


def looks_like_follow_up(question: str) -> bool:
    words = question.split()
    if FOLLOW_UP_START.match(question) and len(words) <= 12:
        return True
    if ZH_FOLLOW_UP.match(question) and len(question) <= 20:
        return True
    return len(words) <= 8 and bool(ANAPHORA.search(question))


def standalone_query(question: str, history: list[Turn]) -> str:
    """Join a follow-up to the last standalone question; leave self-contained questions alone."""
    question = question.strip()
    previous = next((t.query or t.content for t in reversed(history) if t.role == "user"), None)
    if not previous or not looks_like_follow_up(question):
        return question
    tail = FOLLOW_UP_START.sub("", question).strip() or question
    return f"{previous.rstrip('?？ ')}? {tail}"


class ChatService:
    """Multi-turn answers through the audited stream.

    >>> chat = ChatService(Governance(advisor))
    >>> chat.answer(ChatRequest(question="and for retail clients?", history=turns)).retrieval_query
    """

    def __init__(self, governance: Governance) -> None:
        self.governance = governance

    def respond(self, request: ChatRequest, user: str | None = None) -> Iterator[ChatUpdate]:
        self.governance.advisor.check_question(request.question)
        turn = self.governance.advise(request.question, request.client, user)
        if turn.kind != "general":
            yield ChatUpdate(partial=turn.answer.answer, done=True, answer=turn.answer, client=turn.state, client_turn=turn)
            return
        query = standalone_query(request.question, request.history)
        text = ""
        ask = AskRequest(question=query, k=request.k, filters=request.filters)
        with closing(self.governance.ask_stream(ask, user)) as stream:  # a reader who leaves closes the record
            for chunk in stream:
                if chunk.answer is None:
                    text += chunk.delta
                    yield ChatUpdate(partial=text)
                    continue
                answer = chunk.answer
                answer.question = request.question
                searched = topic_of(query)  # what retrieval read: the rewrite, without the asker's setting
                if searched != request.question.strip():
                    answer.retrieval_query = searched
                yield ChatUpdate(partial=answer.answer, done=True, answer=answer, client=request.client)

    def answer(self, request: ChatRequest) -> Answer:
        return self.turn(request).answer

    def turn(self, request: ChatRequest, user: str | None = None) -> ChatUpdate:
        """The final update of one turn: the answer and the conversation's client after it."""
        final = None
        for update in self.respond(request, user):
            final = update if update.done else final
        assert final is not None and final.answer is not None
        return final
