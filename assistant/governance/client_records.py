"""Audit records of answers given for a client: the (masked) client that shaped the answer is kept with it.

An answer about "this client" is only explainable with the client: the record keeps the conversation's
client before the turn (so a replay can run the same turn again) and the profile after it, both masked
unless the bank's setting keeps personal data. The output hash is taken over the masked text, so a replay
from the masked inputs hashes the same when nothing else changed.
"""

from __future__ import annotations

from assistant.clients.situation.state import ClientReply, ClientState
from assistant.answers.privacy import mask_identifiers, mask_profile
from assistant.governance.audit import AuditRecord, ChunkRef, dumps, text_hash
from assistant.search.retrieval import ScoredChunk


def mask_state(state: ClientState | None, keep: bool) -> dict | None:
    if state is None:
        return None
    data = state.model_dump(mode="json")
    data["facts"] = mask_profile(data["facts"], keep)
    if data.get("profile"):
        data["profile"] = mask_profile(data["profile"], keep)
    return data


def _personal_pairs(state: ClientState | None, masked: dict | None) -> list[tuple[str, str]]:
    if state is None or masked is None:
        return []
    pairs = []
    for part in ("facts", "profile"):
        raw, hidden = getattr(state, part) if part == "profile" else state.facts.model_dump(), masked.get(part) or {}
        for key, value in (raw or {}).items():
            if isinstance(value, str) and len(value) > 1 and hidden.get(key) != value:
                pairs.append((value, str(hidden.get(key))))
    return sorted(set(pairs), key=lambda p: -len(p[0]))


def output_hash(reply: ClientReply, masked_after: dict | None) -> str:
    answer = reply.answer
    text = answer.answer + dumps([c.chunk_id for c in answer.citations])
    for raw, hidden in _personal_pairs(reply.state, masked_after):
        text = text.replace(raw, hidden)
    return text_hash(text)


def replay_state(inputs: dict) -> tuple[ClientState | None, ClientState | None]:
    """(the client before the turn, the client the turn settled on: facts as read, before reading the message again)."""
    before = ClientState.model_validate(inputs["client_state"]) if inputs.get("client_state") else None
    after = inputs.get("client_after")
    if not after:
        return before, None
    settled = ClientState.model_validate(after).model_copy(update={"profile": before.profile if before else None,
                                                                    "pending_question": None, "pending_field": None})
    return before, settled


def client_record(question: str, before: ClientState | None, reply: ClientReply, hits: list[ScoredChunk], keep: bool,
                  **common) -> AuditRecord:
    """``common``: user, settings, knowledge_version, prompt_version, as the plain answers record them."""
    after = mask_state(reply.state, keep)
    cited = {c.chunk_id for c in reply.answer.citations}
    refs = {h.chunk.id: ChunkRef(chunk_id=h.chunk.id, doc_id=h.chunk.doc_id, content_hash=text_hash(h.chunk.text),
                                 cited=h.chunk.id in cited) for h in hits}
    for c in reply.answer.citations:
        refs.setdefault(c.chunk_id, ChunkRef(chunk_id=c.chunk_id, doc_id=c.doc_id, content_hash=text_hash(c.text), cited=True))
    client = (after or {}).get("profile") or (after or {}).get("facts")
    summary = f"[{reply.kind}{': ' + reply.section if reply.section else ''}] {reply.answer.answer}"
    for raw, hidden in _personal_pairs(reply.state, after):
        summary, question = summary.replace(raw, hidden), question.replace(raw, hidden)  # the message names the client too
    if not keep:
        question = mask_identifiers(question)
    return AuditRecord(kind="answer", inputs={"question": question, "client_state": mask_state(before, keep), "client_after": after,
                                              "client": client, "client_turn": reply.kind, "section": reply.section},
                       chunks=list(refs.values()), composer=reply.answer.composer, output_hash=output_hash(reply, after),
                       output_summary=summary[:300], **common)
