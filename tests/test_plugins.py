"""The plug-in seam: built-ins and a bank's own package come in through the same door."""

from __future__ import annotations

import textwrap

import pytest

from assistant import plugins
from assistant.knowledge.converters import ConversionError, convert_file, supported_suffixes
from assistant.plugins import PluginError, Registry, default_registry


@pytest.fixture()
def fresh_registry(monkeypatch):
    """Forget the loaded registry so a plug-in installed by the test is discovered, then forget it again."""
    monkeypatch.setattr(plugins, "_default", None)
    yield
    plugins._default = None


def test_built_ins_are_registered_through_the_seam():
    registry = default_registry()
    assert {".md", ".markdown", ".txt", ".pdf", ".docx"} <= set(registry.names("converter"))
    assert "sentence-transformers" in registry.names("embedder")
    assert "chroma" in registry.names("store")
    assert {"none", "openai", "ollama", "llamacpp"} <= set(registry.names("composer"))
    assert registry.owner("converter", ".pdf") == "assistant.knowledge.converters:register"


def test_an_installed_package_adds_a_converter_without_editing_our_files(tmp_path, monkeypatch, fresh_registry):
    (tmp_path / "bank_csv_plugin.py").write_text(textwrap.dedent('''
        def to_markdown(name, data):
            rows = [line.split(",") for line in data.decode("utf-8").splitlines()]
            return "\\n".join("- " + " | ".join(r) for r in rows)

        def register(registry):
            registry.register("converter", ".csv", to_markdown)
    '''), encoding="utf-8")
    dist = tmp_path / "bank_csv_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: bank-csv-plugin\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[strategy_advisor]\ncsv = bank_csv_plugin:register\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    table = tmp_path / "limits.csv"
    table.write_text("branch,limit\nBaotou,5\n", encoding="utf-8")

    assert ".csv" in supported_suffixes()
    assert convert_file(table) == "- branch | limit\n- Baotou | 5"
    assert default_registry().owner("converter", ".csv").startswith("csv (bank_csv_plugin:register)")


def test_a_broken_plugin_names_itself(tmp_path, monkeypatch, fresh_registry):
    (tmp_path / "broken_plugin.py").write_text("def register(registry):\n    raise RuntimeError('no licence file')\n")
    dist = tmp_path / "broken_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[strategy_advisor]\nbroken = broken_plugin:register\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match=r"plug-in broken \(broken_plugin:register\) failed to load: RuntimeError: no licence file"):
        default_registry()


def test_registry_names_what_is_wrong():
    registry = Registry()
    registry.register("converter", ".md", lambda name, data: data.decode())
    with pytest.raises(PluginError, match=r"converter '.md' is registered twice"):
        registry.register("converter", ".md", lambda name, data: "")
    with pytest.raises(PluginError, match=r"plug-in kind must be one of converter, embedder, composer, store \(got 'parser'\)"):
        registry.register("parser", "x", len)
    with pytest.raises(PluginError, match=r"no embedder named 'bge'; available: none"):
        registry.get("embedder", "bge")
    registry.register("converter", ".md", lambda name, data: "replaced", replace=True)
    assert registry.get("converter", ".MD")("a.md", b"x") == "replaced"


def test_unknown_file_type_lists_every_registered_converter(tmp_path):
    path = tmp_path / "scan.tiff"
    path.write_bytes(b"II*\x00")
    with pytest.raises(ConversionError, match=r"unsupported file type '.tiff'; use one of .*\.docx.*\.pdf"):
        convert_file(path)


def test_unknown_composer_or_embedder_setting_is_a_clear_error(make_settings):
    from assistant.answers.advisor import Advisor
    from assistant.errors import InputError

    with pytest.raises(InputError, match=r"ADVISOR_EMBEDDER: no embedder named 'bge-m3'; available: .*sentence-transformers"):
        _ = Advisor(make_settings(embedder="bge-m3")).embedder
    with pytest.raises(InputError, match=r"ADVISOR_LLM: no composer named 'gpt5'"):
        _ = Advisor(make_settings(llm="gpt5")).composer
    # the two multilingual settings name themselves, not ADVISOR_EMBEDDER
    with pytest.raises(InputError, match=r"ADVISOR_MULTILINGUAL_EMBEDDER: no embedder named 'labse'; available: .*multilingual-e5-small"):
        _ = Advisor(make_settings(multilingual_embedder="labse")).multilingual_embedder
    with pytest.raises(InputError, match=r"ADVISOR_MULTILINGUAL_SCORER: no embedder named 'labse'; available: .*use-multilingual-v3"):
        _ = Advisor(make_settings(multilingual_scorer="labse")).multilingual_scorer
