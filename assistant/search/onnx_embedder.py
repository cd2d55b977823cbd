"""The same English model run by onnxruntime: the same vectors, without importing torch.

A one-shot ``advisor ask`` spent most of its life importing sentence-transformers and torch (about 8 s
of 10 on 2 cores) to embed one question. onnxruntime is already installed (Chroma depends on it) and
loads the model in a fraction of a second. The ONNX graph is made here from the sentence-transformers
folder, once per model file, by torch's exporter (mean pooling and normalisation inside the graph), and
kept in ``DATA_DIR/models``; an ingest makes it, since it has the model loaded anyway. Its vectors match
sentence-transformers' to within 1e-6 (cosine), so the store, the vector cache and every threshold stay
valid: the embedder keeps the model's name.

Supported: BERT-style sentence-transformers folders with mean pooling and a Normalize module, which is
what the bundled all-MiniLM-L6-v2 is; anything else (or a graph that cannot be made) is left to
sentence-transformers with one warning that says why, so the default never stops an answer.
May import: assistant.errors, assistant.plugins, assistant.search.embeddings, assistant.search.files (torch only
while exporting).

    embedder = OnnxEmbedder("all-MiniLM-L6-v2", folder=settings.model_folder)
    embedder.encode(["What is RAROC?"]).shape     # (1, 384), unit length
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import warnings
from pathlib import Path

import numpy as np

from assistant.plugins import Registry
from assistant.search.embeddings import Embedder, ModelNotFound, _offline, resolve_model
from assistant.search.files import replace_atomically

WANTED_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                  "sentence_transformers.models.Normalize"]
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
log = logging.getLogger(__name__)
_export_lock = threading.Lock()


def _model_folder(name: str) -> Path:
    folder = Path(resolve_model(name))
    if not folder.is_dir():
        raise ModelNotFound(f"the onnx embedder needs the model as a local folder; '{name}' is not one "
                            "(set ADVISOR_EMBEDDER=sentence-transformers to use it)")
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8")) if (folder / "modules.json").exists() else []
    pooling = folder / "1_Pooling" / "config.json"
    mean = pooling.exists() and json.loads(pooling.read_text(encoding="utf-8")).get("pooling_mode_mean_tokens") is True
    if [m.get("type") for m in modules] != WANTED_MODULES or not mean or not (folder / "tokenizer.json").exists():
        raise ModelNotFound(f"the onnx embedder runs mean-pooled, normalised BERT-style models with a tokenizer.json; "
                            f"'{name}' ({folder}) is not one: set ADVISOR_EMBEDDER=sentence-transformers")
    return folder


def onnx_file(folder: Path, cache: Path) -> Path:
    """Where this model's graph is kept: named by its weights and config, so another model (or a new
    version under the same name) never reads an old graph."""
    digest = hashlib.sha256()
    for part in ("config.json", "sentence_bert_config.json", "tokenizer.json"):
        path = folder / part
        digest.update(path.read_bytes() if path.exists() else b"-")
    for weights in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("pytorch_model.bin")):
        stat = weights.stat()
        digest.update(f"{weights.name}:{stat.st_size}".encode())
    return cache / f"{folder.name}-{digest.hexdigest()[:16]}.onnx"


def export(folder: Path, target: Path) -> Path:
    """Write the model (with mean pooling and normalisation) as ONNX, through ``replace_atomically``: a
    process that dies half-way leaves no half file, and two processes exporting at once both succeed."""
    _offline()
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

    class Sentence(torch.nn.Module):
        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    sample = tokenizer(["a short sentence", "a somewhat longer second sentence"], padding=True, return_tensors="pt")

    def write(temp: Path) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the tracer's notes on constant shapes: an ingest should not print them
            torch.onnx.export(Sentence(model), tuple(sample[n] for n in INPUTS), str(temp), input_names=list(INPUTS),
                              output_names=["embedding"], opset_version=17, dynamo=False,
                              dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in INPUTS}, "embedding": {0: "batch"}})

    replace_atomically(target, write)
    return target


_sessions: dict[str, tuple[object, object, Path]] = {}


def _session(model_name: str, cache: Path, threads: int):
    """The session and tokenizer for a model, shared by every embedder of the process that runs the same
    graph (tests and benchmarks open many data folders; each would otherwise export its own copy)."""
    import onnxruntime
    from tokenizers import Tokenizer

    source = _model_folder(model_name)
    path = onnx_file(source, cache)
    with _export_lock:
        if path.name in _sessions:
            session, tokenizer, made = _sessions[path.name]
            if not path.exists():   # this folder's next process should find it too: a link, not a copy
                _link(made, path)
            return session, tokenizer
        if not path.exists():
            export(source, path)
        config = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        tokenizer.enable_truncation(int(config.get("max_seq_length", 256)))
        tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        _sessions[path.name] = (session, tokenizer, path)
        return session, tokenizer


def _link(made: Path, path: Path) -> None:
    def write(temp: Path) -> None:
        try:
            os.link(made, temp)
        except OSError:   # another file system, or links not allowed
            shutil.copyfile(made, temp)

    try:
        replace_atomically(path, write)
    except OSError as exc:   # only a cache: the next process exports again
        log.warning("onnx embedder: could not keep the graph in %s (%s)", path.parent, exc)


class OnnxEmbedder(Embedder):
    """The English model through onnxruntime and the ``tokenizers`` library, behind the same interface.

    >>> embedder = OnnxEmbedder("all-MiniLM-L6-v2", folder=Path("data/models"))
    >>> float(embedder.encode(["What is RAROC?"])[0] @ Embedder("all-MiniLM-L6-v2").encode(["What is RAROC?"])[0]) > 0.99999
    True
    """

    def __init__(self, model_name: str, batch_size: int = 32, cache_size: int = 20000, *, folder: Path,
                 threads: int | None = None) -> None:
        super().__init__(model_name, batch_size, cache_size)
        self.folder = Path(folder)
        self.threads = threads or min(4, os.cpu_count() or 1)
        self._session = None
        self._tokenizer = None
        self._fallback: Embedder | None = None
        self._ready = threading.Lock()

    @property
    def model(self):
        """The onnxruntime session (made on first use, exporting the graph if this model has none yet).
        A model it cannot run, or a graph it cannot make, leaves the work to sentence-transformers with
        one warning: slower to start, the same vectors."""
        with self._ready:
            if self._session is None and self._fallback is None:
                try:
                    self._session, self._tokenizer = _session(self.model_name, self.folder, self.threads)
                except Exception as exc:   # an unsupported folder, a missing exporter: still answer
                    log.warning("onnx embedder: %s; using sentence-transformers instead", exc)
                    self._fallback = Embedder(self.model_name, self.batch_size)
            return self._session if self._fallback is None else self._fallback.model

    def prepare(self) -> None:
        """Export the graph into this data folder now (an ingest calls it), so a one-shot question after
        it never needs torch."""
        self.model

    @property
    def dimension(self) -> int:
        session = self.model
        return self._fallback.dimension if self._fallback is not None else int(session.get_outputs()[0].shape[1])

    def pieces(self, text: str) -> list[str] | None:
        self.model
        if self._fallback is not None:
            return self._fallback.pieces(text)
        return self._tokenizer.encode(text, add_special_tokens=False).tokens

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        session = self.model
        if self._fallback is not None:
            return self._fallback.encode(texts, progress)
        width = int(session.get_outputs()[0].shape[1])
        if not texts:
            return np.zeros((0, width), dtype=np.float32)
        # Longest first, as sentence-transformers batches: a batch is padded to its longest text, so texts
        # of like length together waste the least work.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), width), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            encoded = self._tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = session.run(None, feed)[0]
        return out


def register(registry: Registry) -> None:
    """``ADVISOR_EMBEDDER=onnx``: the configured English model through onnxruntime."""
    registry.register("embedder", "onnx", lambda settings: OnnxEmbedder(
        settings.embedding_model, settings.embedding_batch_size, folder=settings.model_folder))
