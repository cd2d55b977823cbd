"""The client a conversation is about, and what one turn about that client returns.

The state travels with the conversation (the app keeps it in the session, the CLI builds it from
``--client``), so the service itself holds no per-user memory and two users never share a client.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.answers.answer import Answer
from assistant.clients.plans import map_needs
from assistant.clients.profiles import EnterpriseProfile, IndividualProfile
from assistant.clients.rules import RuleBook
from assistant.clients.segmentation import Classification
from assistant.clients.situation.facts import ClientFacts, SituationRead
from assistant.clients.situation.recommend import Recommendation

Source = Literal["chat", "example", "file", "plan", "explicit", "panel"]


class ClientState(BaseModel):
    """The current client: the facts read or typed so far, and the strict profile once they decide the segment.

    >>> state = ClientState.from_profile(profile, "example", rules)
    >>> reply = client_advisor.respond("what pricing?", state)
    """

    facts: ClientFacts = Field(default_factory=ClientFacts)
    profile: dict | None = Field(None, description="The strict profile (the Plan tab's format) once the segment is decided.")
    source: Source = "chat"
    pending_question: str | None = None
    pending_field: str | None = None
    language: Literal["en", "zh"] = "en"

    @classmethod
    def from_profile(cls, profile: EnterpriseProfile | IndividualProfile, source: Source, rules: RuleBook,
                     language: Literal["en", "zh"] = "en") -> "ClientState":
        mapped = map_needs(profile.stated_needs, rules.needs, profile.client_type)
        need_ids = list(dict.fromkeys(n.id for needs in mapped.values() for n in needs))
        return cls(facts=ClientFacts.from_profile(profile, need_ids), profile=profile.model_dump(mode="json", exclude_none=True),
                   source=source, language=language)


class ClientReply(BaseModel):
    """One turn: ``kind`` says which path answered; ``general`` means no client is involved and the plain
    chat should answer."""

    kind: Literal["general", "recommendation", "question", "follow-up", "cleared"]
    answer: Answer | None = None
    state: ClientState | None = None
    reading: SituationRead | None = None
    read_as: str = ""
    assumptions: list[str] = Field(default_factory=list)
    recommendation: Recommendation | None = None
    classification: Classification | None = None
    section: str | None = Field(None, description="The plan section a follow-up was answered from.")

    @property
    def client(self) -> dict | None:
        return self.state.profile if self.state else None

    def payload(self) -> dict:
        """The client side of an answer for JSON callers (``advisor ask --json``, the API's /ask)."""
        state = self.state
        cls = self.classification
        return {
            "client_turn": self.kind,
            "client": (state.profile or state.facts.known()) if state else None,
            "read_as": self.read_as or None,
            "segment": {"id": cls.segment, "label": cls.segment_label, "reasons": cls.reasons} if cls else None,
            "recommendation": self.recommendation.model_dump(mode="json") if self.recommendation else None,
            "follow_up_question": state.pending_question if state else None,
            "missing": [m.model_dump() for m in self.reading.missing] if self.reading else [],
            "assumptions": self.assumptions,
            "section": self.section,
        }


def general_payload() -> dict:
    """The same keys for an answer that was not about a client."""
    return {"client_turn": "general", "client": None, "read_as": None, "segment": None, "recommendation": None,
            "follow_up_question": None, "missing": [], "assumptions": [], "section": None}
