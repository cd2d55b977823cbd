"""The advisor service: settings in, typed answers out.

It wires the store, the embedder, the retriever and the composer once, lazily, and shares them; the
CLI, the app and the tests all go through it, so none of them holds business logic.
"""

from __future__ import annotations

import threading

from pydantic import BaseModel, Field, ValidationError, field_validator

from assistant.answers.answer import Answer, Composer
from assistant.config import Settings
from assistant.errors import InputError
from assistant.plugins import PluginError, Registry, default_registry
from assistant.search.embeddings import Embedder
from assistant.search.sources import IngestLock
from assistant.search.ingest import Ingestor, IngestReport, IngestRequest, Notice, Progress
from assistant.search.keyword_file import KeywordIndexFile
from assistant.search.retrieval import (
    HybridRetriever,
    Mode,
    RetrievalQuery,
    ScoredChunk,
)
from assistant.search.languages import reads_chinese
from assistant.search.store import ChromaStore
from assistant.search.vector_file import VectorFile, file_for


class AskRequest(BaseModel):
    question: str
    k: int | None = Field(None, ge=1, le=50)
    filters: dict[str, str] = Field(default_factory=dict)
    mode: Mode = "hybrid"

    @field_validator("filters", mode="before")
    @classmethod
    def _drop_blank(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if v not in (None, "", "any", "all")}
        return value


class StoreStats(BaseModel):
    documents: int
    chunks: int
    knowledge_version: str | None
    last_ingest: str | None
    location: str


class Advisor:
    """The one service the CLI, the app and the tests call: retrieve, compose, ingest.

    >>> advisor = Advisor.from_settings(Settings(knowledge_dir=Path("knowledge")))
    >>> advisor.ingest()
    >>> advisor.ask("What does one client, one policy mean?").answer

    Parts may be passed in (a test's own composer, a shared embedder); what is not passed is built
    from the settings through the plug-in registry on first use, so starting the CLI loads nothing.
    """

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 store: ChromaStore | None = None, retriever: HybridRetriever | None = None,
                 composer: Composer | None = None, registry: Registry | None = None,
                 ml_embedder: Embedder | None = None, ml_scorer: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self._registry = registry
        self._parts: dict[str, object] = {k: v for k, v in (("embedder", embedder), ("store", store),
                                          ("retriever", retriever), ("composer", composer),
                                          ("ml_embedder", ml_embedder), ("ml_scorer", ml_scorer)) if v is not None}
        self.ingest_lock = IngestLock(self.settings.data_dir / "ingest.lock")
        self._parts_lock = threading.RLock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "Advisor":
        """The default advisor: every part from the settings (embedder, store, composer plug-ins)."""
        return cls(settings)

    @property
    def registry(self) -> Registry:
        return self._registry or default_registry()

    def _part(self, name: str, build) -> object:
        with self._parts_lock:
            if name not in self._parts:
                self._parts[name] = build()
            return self._parts[name]

    def _plugin(self, kind: str, name: str, setting: str | None = None):
        """The registered factory; an unknown name is refused naming the setting that gave it."""
        try:
            return self.registry.get(kind, name)
        except PluginError as exc:
            raise InputError(f"ADVISOR_{(setting or kind).upper()}: {exc}") from None

    @property
    def embedder(self) -> Embedder:
        return self._part("embedder", lambda: self._on_disk(self._plugin("embedder", self.settings.embedder)(self.settings)))

    @property
    def store(self) -> ChromaStore:
        return self._part("store", lambda: self._plugin("store", self.settings.store)(self.settings))

    @property
    def multilingual_embedder(self) -> Embedder | None:
        """The model of the second dense list (reads Chinese and English); None when the setting is 'none'."""
        if not self.settings.multilingual:
            return None
        return self._part("ml_embedder", lambda: self._on_disk(
            self._plugin("embedder", self.settings.multilingual_embedder, "multilingual_embedder")(self.settings)))

    @property
    def multilingual_scorer(self) -> Embedder | None:
        """The model whose cosines the relevance gate, the FAQ match, the out-of-scope check and the
        choice of sentences read for a Chinese question (their thresholds are calibrated for it): a second
        model beside the list's, or the list's own with ADVISOR_MULTILINGUAL_SCORER=list. None when the
        multilingual list is off (a Chinese question is then judged by its words)."""
        ml = self.multilingual_embedder
        name = self.settings.multilingual_scorer
        if ml is None or name in ("list", ml.model_name, self.settings.multilingual_embedder):
            return ml
        return self._part("ml_scorer", lambda: self._on_disk(self._plugin("embedder", name, "multilingual_scorer")(self.settings)))

    def _on_disk(self, embedder):
        """Embedders the advisor builds keep their vectors in the data folder (see vector_file.py);
        passed-in ones are the caller's to configure."""
        keep = getattr(embedder, "keep_on_disk", None)
        if self.settings.vector_cache and keep is not None:
            keep(VectorFile(file_for(self.settings.vector_folder, embedder.model_name)))
        return embedder

    @property
    def multilingual_store(self) -> ChromaStore | None:
        if not self.settings.multilingual:
            return None
        return self._part("ml_store", lambda: self._plugin("store", self.settings.store)(
            self.settings.model_copy(update={"collection": self.settings.multilingual_collection})))

    def embedder_for(self, text: str) -> Embedder:
        """The model that reads ``text``: the multilingual scorer for Chinese or mixed text (the English
        model scores those near zero), else the English one. Gates and sentence scoring that compare a
        question with passages should use it, with thresholds calibrated for that model."""
        ml = self.multilingual_scorer
        return ml if ml is not None and reads_chinese(text) else self.embedder

    @property
    def retriever(self) -> HybridRetriever:
        return self._part("retriever", lambda: HybridRetriever(
            self.settings, self.store, self.embedder,
            ml_store=self.multilingual_store, ml_embedder=self.multilingual_embedder, keyword_files=self.keyword_files))

    @property
    def keyword_files(self) -> KeywordIndexFile | None:
        """Where the keyword index is saved per revision (beside the other state, so app processes
        sharing the data folder share it); None with ADVISOR_KEYWORD_INDEX_FILE=false."""
        if not self.settings.keyword_index_file:
            return None
        return KeywordIndexFile(self.settings.data_dir / "keywords" / self.settings.collection)

    @property
    def composer(self) -> Composer:
        """Extractive by default; any LangChain chat model when ADVISOR_LLM is set (see llm.py)."""
        from assistant.answers.llm import build_composer

        return self._part("composer", lambda: self._bound(build_composer(self.settings, self.embedder, self.registry)))

    def use_composer(self, composer: Composer) -> None:
        """Swap the composer (the app's LLM toggle, a test's scripted model) without rebuilding the rest."""
        with self._parts_lock:
            self._parts["composer"] = self._bound(composer)

    def _bound(self, composer: Composer) -> Composer:
        """Composers that answer with whole sections read them from the keyword index's chunks,
        which follow every ingest."""
        bind = getattr(composer, "bind_corpus", None)
        if callable(bind):
            bind(lambda: self.retriever.keyword_index())
        multilingual = getattr(composer, "bind_multilingual", None)
        if callable(multilingual):
            multilingual(self.multilingual_scorer)
        return composer

    def check_question(self, question: str) -> str:
        text = (question or "").strip()
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError("the question holds characters that are not valid text (is the terminal set to "
                             "UTF-8?); retype it") from None
        if not text:
            raise InputError("the question is empty: type a question about client strategy")
        limit = self.settings.max_question_chars
        if len(text) > limit:
            raise InputError(f"the question is {len(text)} characters long; the limit is {limit}: shorten it")
        return text

    def retrieve(self, request: AskRequest) -> list[ScoredChunk]:
        question = self.check_question(request.question)
        try:
            query = RetrievalQuery(query=question, k=request.k or self.settings.top_k,
                                   filters=request.filters, mode=request.mode)
        except ValidationError as exc:
            raise InputError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from exc
        return self.retriever.run(query)

    def ask(self, request: AskRequest | str) -> Answer:
        return self.answer(request)[0]

    def answer(self, request: AskRequest | str) -> tuple[Answer, list[ScoredChunk]]:
        """The answer and the passages it was composed from (the audit trail keeps both)."""
        if isinstance(request, str):
            request = AskRequest(question=request)
        hits = self.retrieve(request)
        return self.composer.compose(request.question.strip(), hits), hits

    def ingest(self, request: IngestRequest | None = None, progress: Progress | None = None,
               notice: Notice | None = None) -> IngestReport:
        """One ingest at a time (threads and processes); hold ``ingest_lock`` around it to do more under it."""
        with self.ingest_lock:
            report = Ingestor(self.settings, self.store, self.embedder, lock=self.ingest_lock, ml_store=self.multilingual_store,
                              ml_embedder=self.multilingual_embedder).run(request, progress, notice)
        prepare = getattr(self.embedder, "prepare", None)   # a test's own embedder may have none
        if prepare is not None:
            prepare()   # what the next process loads (the onnx graph) is made by the ingest, not by a question
        return report

    def ensure_ingested(self) -> IngestReport | None:
        """Ingest on first start only: an app over an existing store starts in seconds."""
        ml_store = self.multilingual_store
        if self.store.count() == 0 or (ml_store is not None and ml_store.count() == 0):
            return self.ingest()  # a store from before the multilingual list fills just that list
        if ml_store is not None and ml_store.info().get("embedding_model") not in (None, self.multilingual_embedder.model_name):
            return self.ingest()  # the list's model changed (an upgrade, a setting): its vectors cannot be read
        return None

    def keyword_index(self) -> int:
        """Build (or load) the keyword index for the store as it stands, saving it for other processes;
        returns how many passages it holds."""
        return len(self.retriever.keyword_index().chunks)

    def warm_up(self) -> int:
        """Load the model, build the keyword index and embed once what answers read: the passages'
        labelled texts and listed questions (the relevance gate), the FAQ questions and every quotable unit."""
        chunks = self.retriever.keyword_index().chunks
        self.retriever.warm_exact()
        # the list's model embeds only questions (its passages' vectors are in the store); the scorer reads passages
        for embedder in filter(None, (self.embedder, self.multilingual_scorer)):
            embedder.encode_cached([c.content_text for c in chunks] + [q for c in chunks for f in c.faq for q in f.q]
                                   + list(dict.fromkeys(q for c in chunks for q in c.asks)))
        extractive = getattr(self.composer, "extractive", self.composer)
        return extractive.warm([c.text for c in chunks]) if hasattr(extractive, "warm") else 0

    def stats(self) -> StoreStats:
        info = self.store.info()
        manifest = self.store.manifest()
        return StoreStats(documents=len(manifest), chunks=sum(s.present_chunks for s in manifest.values()),
                          knowledge_version=info.get("knowledge_version"), last_ingest=info.get("last_ingest"),
                          location=self.store.location)
