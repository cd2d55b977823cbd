"""Language-model answers: any LangChain chat model, grounded and guarded, extractive as fallback.

Managers who run a model (llama.cpp, Ollama, a bank's own vLLM, any OpenAI-compatible endpoint)
get fluent answers; nobody gets an ungrounded one. The model sees numbered passages fenced as data,
and every sentence it writes passes the grounding check (assistant.answers.grounding) before anyone sees
it. Whatever goes wrong - a timeout, a refused connection, an HTTP error, a reply that cannot be
parsed, an answer that cites nothing real - the offline extractive composer answers instead and
the user is told why.

Backends: ``ADVISOR_LLM=openai|ollama|llamacpp`` all go through ``langchain_openai.ChatOpenAI``.
Ollama (``/v1``) and llama.cpp's ``llama-server`` (``/v1``) speak the OpenAI chat-completions
protocol, so one client covers all three and no extra dependency is needed. Prompts live in
``assistant/answers/prompts/``, never in code.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator, Iterator
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field

from assistant.answers.answer import Answer, Composer, currency_warnings, not_found, number_citations, with_caution
from assistant.answers.compose import ExtractiveComposer
from assistant.answers.gate import answerable, unsure
from assistant.answers.grounding import (
    DEFAULT_THRESHOLD,
    GroundingChecker,
    GroundingResult,
    Renumberer,
    SentenceCheck,
    SentenceStream,
    normalise,
)
from assistant.answers.prompting import (
    ProfileData,
    build_messages,
    not_found_sentence,
    prompt_secrets,
    prompt_version,
)
from assistant.answers.sections import CorpusSource, shaped_hits
from assistant.config import Settings
from assistant.errors import AdvisorError, InputError
from assistant.plugins import PluginError, Registry, default_registry
from assistant.search.embeddings import Embedder
from assistant.search.retrieval import ScoredChunk
from assistant.search.framing import topic_of

log = logging.getLogger(__name__)

FALLBACK = "extractive (fallback)"
DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "ollama": "http://127.0.0.1:11434/v1",  # `ollama serve`; its OpenAI-compatible API is under /v1
    "llamacpp": "http://127.0.0.1:8080/v1",  # `llama-server -m model.gguf`; same protocol under /v1
}
CITED_SENTENCE_END = re.compile(r"(?<=\])(\s+)(?=\S)")
LOCAL_API_KEY = "not-needed"  # local servers ignore the key, but the OpenAI client insists on one


class LLMConfigError(AdvisorError, ValueError):
    """The language-model settings cannot work; raised at start-up, not on the first question."""


# --- failures ------------------------------------------------------------------------------------

FailureKind = Literal["timeout", "connection", "http", "malformed", "empty", "no_citation", "unsupported", "error"]
FAILURE_TEXT: dict[str, str] = {
    "timeout": "the language model timed out",
    "connection": "the language model could not be reached",
    "http": "the language model returned an error{detail}",
    "malformed": "the language model's reply could not be read",
    "empty": "the language model returned an empty answer",
    "no_citation": "the language model's answer cited no passage that exists",
    "unsupported": "none of the language model's sentences is supported by the cited passages",
    "error": "the language model failed{detail}",
}


class ModelFailure(BaseModel):
    kind: FailureKind
    detail: str = ""

    @property
    def reason(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return FAILURE_TEXT[self.kind].format(detail=detail)

    def fallback_warning(self) -> str:
        return f"{self.reason}; showing the extractive answer"


def classify(exc: BaseException) -> ModelFailure:
    """Name a failure the way a banker can act on it: wait, call IT, or check the model server."""
    import httpx
    import openai

    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException, TimeoutError)):
        return ModelFailure(kind="timeout")
    if isinstance(exc, openai.APIStatusError):
        return ModelFailure(kind="http", detail=f"HTTP {exc.status_code}")
    if isinstance(exc, httpx.HTTPStatusError):
        return ModelFailure(kind="http", detail=f"HTTP {exc.response.status_code}")
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError, ConnectionError)):
        return ModelFailure(kind="connection")
    if isinstance(exc, (openai.APIResponseValidationError, ValueError, KeyError, TypeError)):
        return ModelFailure(kind="malformed")
    return ModelFailure(kind="error", detail=type(exc).__name__)


# --- streaming -----------------------------------------------------------------------------------

class AnswerChunk(BaseModel):
    """One step of a streamed answer: text to append, or (last) the final, authoritative Answer."""

    delta: str = ""
    answer: Answer | None = None

    @property
    def done(self) -> bool:
        return self.answer is not None


def answer_chunks(answer: Answer) -> Iterator[AnswerChunk]:
    """Stream a finished answer cited piece by cited piece (a sentence, a list, a table); the deltas
    join to exactly ``answer.answer``."""
    parts = CITED_SENTENCE_END.split(answer.answer)
    yield AnswerChunk(delta=parts[0])
    for space, part in zip(parts[1::2], parts[2::2]):
        yield AnswerChunk(delta=space + part)
    yield AnswerChunk(answer=answer)


def stream_answer(composer: Composer, question: str, hits: list[ScoredChunk],
                  profile: ProfileData = None) -> Iterator[AnswerChunk]:
    """Stream any composer the same way: the LLM composer natively, the extractive one (which has
    no stream) one sentence at a time, so the app and the CLI need one code path."""
    native = getattr(composer, "stream_answer", None)
    if callable(native):
        yield from native(question, hits, profile)
    else:
        yield from answer_chunks(composer.compose(question, hits))


def final_answer(chunks: Iterator[AnswerChunk]) -> Answer:
    for chunk in chunks:
        if chunk.answer is not None:
            return chunk.answer
    raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover - a bug


# --- the composer --------------------------------------------------------------------------------

class Draft(BaseModel):
    """What one model answer produced so far: every sentence's verdict and the text kept."""

    checks: list[SentenceCheck] = Field(default_factory=list)
    kept: list[str] = Field(default_factory=list)
    raw: list[str] = Field(default_factory=list)
    said_not_found: bool = False
    failure: ModelFailure | None = None

    @property
    def result(self) -> GroundingResult:
        return GroundingResult(sentences=self.checks)


class LLMComposer:
    """Answers with a chat model, streams only sentences that pass the grounding check, and falls
    back to the extractive composer when the model fails or supports nothing it says.

    >>> composer = LLMComposer(settings, embedder, build_chat_model(settings), name="llm:ollama/qwen2.5")
    >>> composer.compose("How is RAROC calculated?", hits).answer   # only sentences that passed the check

    Streaming is by sentence, not by token: a sentence is shown only once it has been checked,
    because a banker who has read an unsupported figure cannot un-read it.
    """

    def __init__(self, settings: Settings, embedder: Embedder, model: BaseChatModel, name: str = "llm",
                 threshold: float = DEFAULT_THRESHOLD) -> None:
        self.settings = settings
        self.model = model
        self.name = name
        self.prompt_version = prompt_version()
        self.extractive = ExtractiveComposer(settings, embedder)
        self.checker = GroundingChecker(embedder, threshold, secrets=prompt_secrets())

    def bind_corpus(self, chunks: CorpusSource) -> None:
        """Whole sections for the model and for the fallback, read from the store's chunks."""
        self.extractive.bind_corpus(chunks)

    def bind_multilingual(self, embedder) -> None:
        """The fallback and the relevance gate read Chinese questions with the multilingual model."""
        self.extractive.bind_multilingual(embedder)

    def compose(self, question: str, hits: list[ScoredChunk], profile: ProfileData = None) -> Answer:
        return final_answer(self.stream_answer(question, hits, profile))

    def stream(self, question: str, hits: list[ScoredChunk],
               profile: ProfileData = None) -> Generator[str, None, Answer]:
        """Text deltas; the generator's return value (``StopIteration.value``) is the Answer."""
        for chunk in self.stream_answer(question, hits, profile):
            if chunk.answer is not None:
                return chunk.answer
            yield chunk.delta
        raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover - a bug

    def stream_answer(self, question: str, hits: list[ScoredChunk],
                      profile: ProfileData = None) -> Iterator[AnswerChunk]:
        evidence = self.extractive.evidence(question, hits) if hits else None
        if evidence is None or not answerable(evidence):
            # Nothing relevant was retrieved: a model could only invent, so it is not asked.
            yield from answer_chunks(self.extractive.compose(question, hits))
            return
        cautious = unsure(evidence)  # the same evidence the gate just read, not gathered twice
        # The model sees what the extractive composer sees: whole sections, one passage each.
        hits = shaped_hits(self.extractive.passages(hits, topic_of(question)))
        passages = [h.chunk.text for h in hits]
        draft, numbering, lines = Draft(), Renumberer(), SentenceStream()
        for delta in self._guarded_deltas(build_messages(question, hits, profile), draft):
            draft.raw.append(delta)
            for sentence in lines.feed(delta):
                yield from self._admit(sentence, passages, draft, numbering)
        for sentence in lines.flush():
            yield from self._admit(sentence, passages, draft, numbering)
        answer = self._finish(question, hits, draft, numbering)
        if draft.kept and cautious:  # the extractive fallback and the decline judge for themselves
            answer = with_caution(answer)
        if draft.kept:
            yield AnswerChunk(answer=answer)
        else:
            yield from answer_chunks(answer)

    def _guarded_deltas(self, messages: list[BaseMessage], draft: Draft) -> Iterator[str]:
        """The model's text deltas; a backend failure ends the stream and is recorded on the draft.
        Only the model call is guarded, so a bug in the checks still surfaces as a bug."""
        try:
            for chunk in self.model.stream(messages):
                text = getattr(chunk, "text", None)
                if not isinstance(text, str):
                    raise ValueError(f"the model streamed {type(chunk).__name__}, not text")
                yield text
        except Exception as exc:  # noqa: BLE001 - any backend failure must end in an answer, not a 500
            draft.failure = classify(exc)
            log.warning("language model failed (%s): %r", draft.failure.kind, exc)

    def _admit(self, sentence: str, passages: list[str], draft: Draft, numbering: Renumberer) -> Iterator[AnswerChunk]:
        """Check one complete sentence; yield it (renumbered) only if the passages support it."""
        if is_not_found(sentence):
            draft.said_not_found = True
            return
        check = self.checker.check_sentence(sentence, passages)
        draft.checks.append(check)
        if not check.supported:
            log.info("dropped model sentence (%s): %s", check.reason, check.claim[:200])
            return
        text = numbering.apply(check)
        yield AnswerChunk(delta=text if not draft.kept else " " + text)
        draft.kept.append(text)

    def _finish(self, question: str, hits: list[ScoredChunk], draft: Draft, numbering: Renumberer) -> Answer:
        result, failure = draft.result, draft.failure
        if not draft.kept:
            if failure is None and draft.said_not_found:
                return not_found(question, hits).model_copy(update={"composer": self.name})
            return self.fallback(question, hits, failure or self._why_nothing(draft, result))
        used = [hits[n - 1] for n in numbering.order]
        return Answer(question=question, answer=" ".join(draft.kept), grounded=True, citations=number_citations(used),
                      warnings=self._warnings(result, failure) + currency_warnings(used), composer=self.name)

    @staticmethod
    def _why_nothing(draft: Draft, result: GroundingResult) -> ModelFailure:
        if not "".join(draft.raw).strip():
            return ModelFailure(kind="empty")
        if not result.any_valid_citation:
            return ModelFailure(kind="no_citation")
        return ModelFailure(kind="unsupported")

    @staticmethod
    def _warnings(result: GroundingResult, failure: ModelFailure | None) -> list[str]:
        warnings: list[str] = []
        if failure is not None:
            warnings.append(f"{failure.reason} before finishing; the answer may be incomplete")
        dropped, total = len(result.dropped), len(result.dropped) + len(result.kept)
        if dropped:
            noun = "sentence" if dropped == 1 else "sentences"
            warnings.append(f"{dropped} of {total} {noun} from the language model were removed: "
                            "the cited passages do not support them")
        if result.invalid_citations:
            listed = ", ".join(f"[{n}]" for n in result.invalid_citations)
            warnings.append(f"the language model cited passages that do not exist ({listed}); those citations were removed")
        return warnings

    def fallback(self, question: str, hits: list[ScoredChunk], failure: ModelFailure) -> Answer:
        answer = self.extractive.compose(question, hits)
        return answer.model_copy(update={"composer": FALLBACK,
                                         "warnings": [failure.fallback_warning()] + answer.warnings})


def is_not_found(sentence: str) -> bool:
    """The model's agreed way to say the passages do not answer (see prompts/not_found.txt)."""
    def squash(text: str) -> str:
        return " ".join(normalise(text).lower().replace("[", " ").replace("]", " ").split()).rstrip(".。 ")
    return squash(sentence) == squash(not_found_sentence())


# --- factory -------------------------------------------------------------------------------------

def build_chat_model(settings: Settings) -> BaseChatModel:
    """One OpenAI-compatible client for every backend; retries are off because a retry after a
    timeout doubles the wait, and the extractive answer is ready at once."""
    from langchain_openai import ChatOpenAI

    backend = settings.llm
    if backend == "none":
        raise LLMConfigError("ADVISOR_LLM is 'none': no language model is configured")
    model = settings.llm_model or ("local" if backend == "llamacpp" else None)
    if model is None:
        raise LLMConfigError(f"ADVISOR_LLM={backend} needs ADVISOR_LLM_MODEL (the model name the server serves)")
    if backend == "openai" and not settings.llm_api_key and not settings.llm_base_url:
        raise LLMConfigError("ADVISOR_LLM=openai needs ADVISOR_LLM_API_KEY, or ADVISOR_LLM_BASE_URL for a "
                             "self-hosted OpenAI-compatible server")
    return ChatOpenAI(model=model, base_url=settings.llm_base_url or DEFAULT_BASE_URLS[backend],
                      api_key=settings.llm_api_key or LOCAL_API_KEY, timeout=settings.llm_timeout,
                      max_retries=0, temperature=0)


def _llm_composer(settings: Settings, embedder: Embedder) -> Composer:
    model = build_chat_model(settings)
    name = f"llm:{settings.llm}/{getattr(model, 'model_name', None) or settings.llm_model}"
    return LLMComposer(settings, embedder, model, name=name)


def register(registry: Registry) -> None:
    """The built-in composers: extractive (``ADVISOR_LLM=none``) and the OpenAI-protocol back-ends."""
    registry.register("composer", "none", ExtractiveComposer)
    for backend in ("openai", "ollama", "llamacpp"):
        registry.register("composer", backend, _llm_composer)


def build_composer(settings: Settings, embedder: Embedder, registry: Registry | None = None) -> Composer:
    """The composer the settings ask for: extractive when ``llm`` is 'none', else that plug-in."""
    try:
        factory = (registry or default_registry()).get("composer", settings.llm)
    except PluginError as exc:
        raise InputError(f"ADVISOR_LLM: {exc}") from None
    return factory(settings, embedder)
