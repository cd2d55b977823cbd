"""One turn of a conversation about a client: read, settle, recommend, or answer a follow-up from the plan.

The client's plan is drafted once per profile and kept (a small bounded cache keyed by the profile and the
knowledge version), so "what pricing?" after a recommendation costs a lookup, not a second draft.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict

from assistant.answers.advisor import Advisor, AskRequest
from assistant.answers.answer import Answer
from assistant.clients.plans import Plan, PlanDrafter
from assistant.clients.profiles import ProfileError, validate_profile
from assistant.clients.rules import RuleBook, rules_for
from assistant.clients.situation import followups, render
from assistant.clients.situation.facts import ClientFacts
from assistant.clients.situation.numbers import find_amounts, to_number, without_amounts
from assistant.clients.situation.panel import panel_to_facts
from assistant.clients.situation.reader import QUESTION, SituationReader
from assistant.clients.situation.recommend import recommend
from assistant.clients.situation.settle import Settled, settle
from assistant.clients.situation.shown import facts_summary
from assistant.clients.situation.state import ClientReply, ClientState
from assistant.clients.situation.vocabulary import vocabulary_for
from assistant.clients.situation.words import read_needs
from assistant.search.retrieval import ScoredChunk
from assistant.text import is_chinese

FORGET = re.compile(r"^\s*(?:please\s+)?(?:forget (?:this|the|that|about the) (?:client|customer)|new conversation|clear (?:the )?client|"
                    r"start over|reset)\b|忘记(?:这个|该|这位)?客户|清除客户|新对话|重新开始", re.I)
NEW_CLIENT = re.compile(r"\b(?:another|new|different|next) (?:client|customer)\b|\b(?:our|my) (?:client|customer) is\b|"
                        r"另一个客户|另一位客户|另一家|新客户|换一个客户|下一个客户|客户是", re.I)


class ClientAdvisor:
    """Client-aware turns for the chat, the CLI and the API; not audited here (governance records them).

    >>> reply, hits = ClientAdvisor(advisor).respond("A noodle restaurant, 6 staff, RMB 900,000 revenue, wants a loan", None)
    >>> reply.recommendation.segment
    'micro-business'
    """

    def __init__(self, advisor: Advisor, rules: RuleBook | None = None, cache_size: int = 32) -> None:
        self.advisor = advisor
        self.rules = rules or rules_for(advisor.settings.rules_dir)
        self.reader = SituationReader(self.rules, vocabulary_for(advisor.settings.rules_dir, self.rules))
        self.drafter = PlanDrafter(advisor, self.rules)
        self._plans: OrderedDict[str, Plan] = OrderedDict()
        self._lock = threading.Lock()
        self.cache_size = cache_size

    def plan_for(self, profile: dict) -> Plan:
        """The client's full plan (the same the Plan tab drafts), drafted once per profile and knowledge version."""
        key = json.dumps(profile, sort_keys=True, ensure_ascii=False) + str(self.advisor.store.info().get("knowledge_version"))
        with self._lock:
            if key in self._plans:
                self._plans.move_to_end(key)
                return self._plans[key]
        plan = self.drafter.run(validate_profile(profile))
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > self.cache_size:
                self._plans.popitem(last=False)
        return plan

    # ---------------------------------------------------------------- turns
    def respond(self, message: str, state: ClientState | None) -> tuple[ClientReply, list[ScoredChunk]]:
        lang = "zh" if is_chinese(message) else "en"
        if FORGET.search(message):
            text = "已清除当前客户，接下来的问题按一般问题回答。" if lang == "zh" else \
                "Forgot the client: the next questions are answered in general, not for a client."
            return ClientReply(kind="cleared", answer=Answer(question=message, answer=text, grounded=False, composer="client-chat")), []
        hint = state.facts.client_type if state else None
        reading = self.reader.read(message, hint)
        if state and (state.profile or state.pending_question) and not self._new_client(message, reading, state):
            added = self._answer_pending(message, state, reading.facts)
            if any(i.field != "name" for i in reading.read_as if i.field != "client_type") or added or \
                    (state.pending_field == "client_type" and reading.facts.client_type):
                merged = ClientState(facts=state.facts.merged(added or reading.facts), profile=state.profile, source=state.source,
                                     language=lang)
                return self.settle_turn(message, merged, reading=reading)
        if reading.is_situation:
            return self.settle_turn(message, ClientState(facts=reading.facts, source="chat", language=lang), reading=reading)
        if state and state.profile:
            return self.follow_up(message, state, lang)
        return ClientReply(kind="general", state=state, reading=reading), []

    @staticmethod
    def _new_client(message: str, reading, state: ClientState) -> bool:
        """A different client, not more about this one: said so, another industry, or a full new description."""
        if NEW_CLIENT.search(message):
            return True
        if reading.facts.industry and state.facts.industry and reading.facts.industry != state.facts.industry:
            return True
        facts = [i for i in reading.read_as if i.field not in ("name", "client_type", "stated_needs")]
        return len(facts) >= 3 and not state.pending_question

    def _answer_pending(self, message: str, state: ClientState, read: ClientFacts) -> ClientFacts | None:
        """A bare answer to our own question ("about 3 million", "40") fills the field that was asked for."""
        field = state.pending_field
        if not field or getattr(read, field, None) is not None or field not in ("operating_revenue_rmb", "total_assets_rmb", "aum_rmb", "employees"):
            return None
        if field == "employees":
            number = re.search(r"\d+", message)
            value = to_number(number.group(0)) if number else None
        else:
            amounts = find_amounts(message)
            value = amounts[0].value if len(amounts) == 1 else None
        return read.model_copy(update={field: int(value) if field == "employees" else value}) if value is not None else None

    def settle_turn(self, message: str, state: ClientState, reading=None) -> tuple[ClientReply, list[ScoredChunk]]:
        """Ask the one missing thing, or recommend; ``state.profile`` (a loaded profile) keeps its other fields."""
        lang = state.language
        settled = self._settle(state, lang)
        read_as = facts_summary(state.facts.known(), lang, self.rules)
        if reading is not None:
            reading = reading.model_copy(update={"missing": settled.missing, "question": settled.question,
                                                 "assumptions": settled.assumptions})
        if settled.profile is None:
            asked = state.model_copy(update={"pending_question": settled.question, "pending_field": settled.missing[0].field})
            text = render.question_text(read_as, settled.question or "", lang == "zh")
            answer = Answer(question=message, answer=text, grounded=False, composer="client-reader")
            general, hits = self._in_general(message) if QUESTION.search(message) else (None, [])
            if general is not None:
                answer = general.model_copy(update={"answer": f"{general.answer}\n\n{text}"})
            return ClientReply(kind="question", state=asked, reading=reading, read_as=read_as, answer=answer), hits
        ready = state.model_copy(update={"profile": settled.profile, "pending_question": None, "pending_field": None})
        return self._recommend(message, ready, settled, read_as, reading), []

    def _in_general(self, message: str) -> tuple[Answer | None, list[ScoredChunk]]:
        """The knowledge base's answer to a question asked about a client whose deciding fact is missing, so
        the asker reads an answer before our question back ("该给他们配一套什么产品？" got only "what is their
        AUM?"); None when the base declines it. The client's amounts are left out of it: "年收入约50亿，总资产
        120亿" met a bank's NIM worked example by its figures, not the approach to a state-owned group."""
        answer, hits = self.advisor.answer(AskRequest(question=without_amounts(message)))
        return (answer.model_copy(update={"question": message}), hits) if answer.grounded else (None, [])

    def _settle(self, state: ClientState, lang: str) -> Settled:
        settled = settle(state.facts, self.rules, lang)
        base = state.profile
        if settled.profile and base and base.get("client_type") == settled.profile["client_type"]:
            extra = {k: v for k, v in base.items() if k not in ClientFacts.model_fields}
            try:
                settled.profile = validate_profile({**settled.profile, **extra}).model_dump(mode="json", exclude_none=True)
            except ProfileError:
                pass  # an edit made the old extras invalid: the facts alone stand
        return settled

    def _recommend(self, message: str, state: ClientState, settled: Settled, read_as: str, reading) -> ClientReply:
        plan = self.plan_for(state.profile)
        rec = recommend(plan, state.facts.need_ids, self.rules)
        cites = render.Cites()
        text = render.recommendation_text(rec, read_as, state.profile, plan.classification, self.rules, settled.assumptions,
                                          state.language == "zh", cites)
        answer = Answer(question=message, answer=text, grounded=True, citations=cites.citations(self.advisor.store),
                        warnings=plan.warnings, composer="client-plan")
        return ClientReply(kind="recommendation", answer=answer, state=state, reading=reading, read_as=read_as,
                           assumptions=settled.assumptions, recommendation=rec, classification=plan.classification)

    def follow_up(self, message: str, state: ClientState, lang: str) -> tuple[ClientReply, list[ScoredChunk]]:
        """A question about the current client: the matching plan section with its citations, or retrieval
        filtered to the client's segment (the plan's filter), falling back to the whole knowledge base."""
        plan = self.plan_for(state.profile)
        intent = followups.match_intent(message)
        name = state.profile.get("name", "")
        read_as = facts_summary(state.facts.known(), lang, self.rules)
        base = dict(kind="follow-up", state=state, read_as=read_as, classification=plan.classification)
        items = None
        if intent == followups.EMPLOYEES and plan.classification.client_type == "enterprise":
            items, title = followups.employee_items(plan, self.drafter, self.rules), "Working with the client's employees"
        elif intent and intent != followups.EMPLOYEES:
            items, title = followups.section_items(plan, intent), intent
        if items:
            cites = render.Cites()
            text = render.section_text(title, items, name, plan.segment, plan.segment_label, lang == "zh", cites, self.rules)
            answer = Answer(question=message, answer=text, grounded=True, citations=cites.citations(self.advisor.store),
                            composer="client-plan")
            return ClientReply(answer=answer, section=title, **base), []
        answer, hits = self._segment_answer(message, plan.segment)
        lead = f"_按该客户（{render.segment_name(plan.classification, True)}）检索：_ " if lang == "zh" else \
            f"_For this client ({plan.segment_label}), searched within the segment's knowledge:_ "
        answer.answer = lead + answer.answer
        return ClientReply(answer=answer, **base), hits

    def _segment_answer(self, message: str, segment: str) -> tuple[Answer, list[ScoredChunk]]:
        answer, hits = self.advisor.answer(AskRequest(question=message, filters={"segments": segment}))
        if not answer.grounded:
            answer, hits = self.advisor.answer(AskRequest(question=message))
        return answer, hits

    def profile_from_text(self, text: str) -> tuple[Settled, str]:
        """The profile a description decides, or the question that would decide it, and how it was read."""
        reading = self.reader.read(text)
        lang = reading.language
        return self._settle(ClientState(facts=reading.facts, language=lang), lang), facts_summary(reading.facts.known(), lang, self.rules)

    def edit(self, state: ClientState | None, values: list, language: str = "en") -> ClientState:
        """The client after an edit in the panel; stated needs are mapped again, a loaded profile's other fields kept."""
        facts = panel_to_facts(values, state.facts if state else None)
        needs = read_needs(facts.stated_needs, self.rules.needs, self.reader.vocab, facts.client_type)
        facts.need_ids = list(dict.fromkeys(n for _, ids in needs for n in ids))
        return ClientState(facts=facts, profile=state.profile if state else None, source="panel",
                           language=state.language if state else language)

    def start(self, state: ClientState, message: str = "") -> tuple[ClientReply, list[ScoredChunk]]:
        """A client set outside the chat (an example, a file, the Plan tab, the client panel): recommend for it."""
        return self.settle_turn(message or "(client set)", state.model_copy(update={"pending_question": None, "pending_field": None}))
