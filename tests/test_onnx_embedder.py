"""ADVISOR_EMBEDDER=onnx (issue 16): the bundled English model through onnxruntime gives the same vectors
as sentence-transformers, exports its graph once per model file, refuses a model it cannot run by name,
answers end to end, and a one-shot question in a fresh process never imports torch."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.answers.advisor import Advisor, AskRequest
from assistant.search.embeddings import ModelNotFound, resolve_model
from assistant.search.onnx_embedder import OnnxEmbedder, onnx_file

from .conftest import ROOT


def resolve_model_path() -> Path:
    return Path(resolve_model(MODEL))

LONG = "Relationship managers review every major client's credit limits each quarter. " * 40  # past 256 tokens
TEXTS = ["How is RAROC calculated?", "包商银行为什么倒闭？", "RAROC 的计算公式是什么", LONG, "x", ""]
MODEL = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-models")


def test_the_same_vectors_as_sentence_transformers(models):
    onnx = OnnxEmbedder(MODEL, folder=models)
    mine = OnnxEmbedder.encode.__wrapped__(onnx, TEXTS)   # its own vectors, not the suite's remembered ones
    # sentence-transformers itself: the suite's Embedder remembers vectors by model name, whoever made them
    from sentence_transformers import SentenceTransformer

    theirs = SentenceTransformer(resolve_model(MODEL), device="cpu").encode(TEXTS, normalize_embeddings=True)
    assert mine.shape == (len(TEXTS), 384) and mine.dtype == np.float32 and onnx.dimension == 384
    cosines = (mine * theirs).sum(axis=1)
    assert cosines.min() > 0.99999, cosines
    assert np.allclose(np.linalg.norm(mine, axis=1), 1.0, atol=1e-5)
    assert OnnxEmbedder.encode.__wrapped__(onnx, []).shape == (0, 384)
    # the relevance gate reads the vocabulary's pieces to tell a specialised term from an everyday word
    model = SentenceTransformer(resolve_model(MODEL), device="cpu")
    for word in ("bitcoin", "hibor", "unhappy", "raroc", "客户"):
        assert onnx.pieces(word) == model.tokenizer.tokenize(word), word


def test_the_graph_is_kept_per_model_file_and_no_partial_file_is_left(models, tmp_path):
    """The graph is exported once per model file; another data folder in the same process gets a link
    to it (its next process then loads it without torch), and nothing half-written stays behind."""
    OnnxEmbedder(MODEL, folder=models).encode(["warm"])
    embedder = OnnxEmbedder(MODEL, folder=models)
    graph = onnx_file(resolve_model_path(), models)
    embedder.model
    assert graph.exists() and graph.stat().st_size > 10_000_000
    stamp = graph.stat().st_mtime_ns
    other = tmp_path / "another-data-folder" / "models"
    OnnxEmbedder(MODEL, folder=other).model
    assert graph.stat().st_mtime_ns == stamp
    assert [p.name for p in other.iterdir()] == [graph.name] and (other / graph.name).stat().st_size == graph.stat().st_size
    assert not [p for folder in (models, other) for p in folder.iterdir() if p.suffix == ".tmp"]


def test_a_model_it_cannot_run_is_left_to_sentence_transformers_with_a_warning(tmp_path, caplog):
    """A CLS-pooled model would give other vectors through the mean-pooling graph: the onnx embedder
    says why and runs it through sentence-transformers instead, so the default never stops an answer."""
    copy = tmp_path / "cls-model"
    shutil.copytree(resolve_model_path(), copy)
    config = copy / "1_Pooling" / "config.json"
    settings = json.loads(config.read_text())
    config.write_text(json.dumps({**settings, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    embedder = OnnxEmbedder(str(copy), folder=tmp_path / "models")
    with caplog.at_level("WARNING", logger="assistant.search.onnx_embedder"):
        vectors = OnnxEmbedder.encode.__wrapped__(embedder, ["anything"])
    assert "cls-model" in caplog.text and "using sentence-transformers instead" in caplog.text
    assert vectors.shape == (1, 384) and embedder.dimension == 384 and embedder.pieces("hibor") == ["hi", "##bor"]
    assert not (tmp_path / "models").exists()
    with pytest.raises(ModelNotFound, match="not on this machine"):   # and a model that is nowhere still says so
        OnnxEmbedder.encode.__wrapped__(OnnxEmbedder("some-hub-name/not-here", folder=tmp_path / "m2"), ["anything"])


def test_the_setting_answers_end_to_end_like_the_default(make_settings, models):
    onnx = Advisor.from_settings(make_settings(embedder="onnx"))
    assert isinstance(onnx.embedder, OnnxEmbedder)
    onnx.ingest()
    answer = onnx.ask(AskRequest(question="How is RAROC calculated?"))
    assert answer.grounded and answer.citations[0].doc_id == "client-profitability-raroc-eva"
    assert "economic capital" in answer.answer


def test_data_folders_sharing_a_models_folder_export_the_graph_once(make_settings, tmp_path):
    """ADVISOR_MODELS_DIR: a staging and a live data folder (or the tests' app processes) share one graph; the
    second folder's embedder opens the first one's and leaves no copy in its own DATA_DIR/models."""
    from assistant.plugins import default_registry

    shared = tmp_path / "graphs"
    first = make_settings(embedder="onnx", data_dir=tmp_path / "staging", models_dir=shared)
    second = make_settings(embedder="onnx", data_dir=tmp_path / "live", models_dir=shared)
    for settings in (first, second):
        embedder = default_registry().get("embedder", "onnx")(settings)
        assert embedder.folder == shared
        embedder.encode.__wrapped__(embedder, ["warm"])
    assert [p.name for p in shared.glob("*.onnx")] == [onnx_file(resolve_model_path(), shared).name]
    assert not (tmp_path / "staging" / "models").exists() and not (tmp_path / "live" / "models").exists()
    assert make_settings(data_dir=tmp_path / "own").model_folder == tmp_path / "own" / "models"


def test_a_one_shot_question_with_onnx_never_imports_torch(make_settings, tmp_path):
    settings = make_settings(embedder="onnx", data_dir=tmp_path / "oneshot")
    Advisor.from_settings(settings).ingest()          # the ingest leaves the graph in DATA_DIR/models
    assert list((tmp_path / "oneshot" / "models").glob("*.onnx"))
    env = {**os.environ, "ADVISOR_EMBEDDER": "onnx", "ADVISOR_DATA_DIR": str(settings.data_dir),
           "ADVISOR_KNOWLEDGE_DIR": str(settings.knowledge_dir), "ADVISOR_MODELS_DIR": str(settings.model_folder)}
    code = ("import sys; from assistant.interfaces.cli import main; sys.argv = ['advisor', 'ask', 'How is RAROC calculated?']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', 'ST' if 'sentence_transformers' in sys.modules else 'NO-ST')")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[1]" in done.stdout and "economic capital" in done.stdout
    assert done.stdout.strip().endswith("NO-TORCH NO-ST"), done.stdout[-500:]
