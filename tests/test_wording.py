"""The app in Chinese: every phrase the app shows through tr() has a Chinese text, nothing visible
bypasses tr(), and a broken wording file is reported by name. The browser side is in test_browser."""

import ast
import json
from pathlib import Path

import pytest
from gradio.i18n import I18nData

from assistant.errors import AdvisorError
from assistant.interfaces.app import wording
from assistant.interfaces.app.build import build_app
from assistant.interfaces.app.training_tab import build_training_tab

APP = Path(wording.__file__).parent
# Labels made from data at run time (a column's name, a quiz question): they are not the app's own words.
FROM_DATA = ("map-", "quiz-q")


def keys_in(node, found: set[str]) -> set[str]:
    if isinstance(node, I18nData):
        found.add(node.key)
    elif isinstance(node, str) and node.startswith("__i18n__"):
        found.add(json.loads(node[len("__i18n__"):])["key"])
    elif isinstance(node, dict):
        if node.get("__type__") == "translation_metadata":
            found.add(node["key"])
        for value in node.values():
            keys_in(value, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            keys_in(value, found)
    return found


def literal_tr_calls() -> set[str]:
    """Every tr("...") and say(language, "...") with a literal text in the app's modules, including
    callbacks' messages, and the Chinese leads passed to user_message(..., lead="...")."""
    found = set()
    for path in APP.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                found.add(node.args[0].value)
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "say" and len(node.args) > 1
                    and isinstance(node.args[1], ast.Constant)):
                found.add(node.args[1].value)   # a run-time message's template, translated on the server
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "user_message":
                found.update(k.value.value for k in node.keywords if k.arg == "lead" and isinstance(k.value, ast.Constant))
    return found


@pytest.fixture(scope="module")
def config(advisor):
    return build_app(advisor, build_training_tab).get_config_file()


def test_every_phrase_the_app_shows_has_chinese_and_the_table_has_nothing_stale(config):
    table = wording.load_table()
    used = keys_in(config, set()) | literal_tr_calls()
    assert len(used) > 90
    assert sorted(used - set(table)) == []
    assert sorted(set(table) - used) == []
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in table.values())


def test_no_label_button_or_tab_bypasses_the_translation(config):
    plain = []
    for component in config["components"]:
        props = component.get("props", {})
        if component["type"] == "api" or any(str(props.get("elem_id") or "").startswith(p) for p in FROM_DATA):
            continue
        shown = [props.get("label"), props.get("placeholder"), props.get("info")]
        if component["type"] in ("button", "downloadbutton", "tabitem", "accordion"):
            shown.append(props.get("value") if component["type"].endswith("button") else props.get("label"))
        if component["type"] == "markdown" and isinstance(props.get("value"), str):
            shown.append(props["value"])
        plain += [(component["type"], text) for text in shown
                  if isinstance(text, str) and text.strip() and not text.startswith("__i18n__")]
    # What may stay plain: generated text (statistics, the document being read, the curriculum) and
    # Gradio's own defaults for labels we hide.
    allowed_markdown = {"stats", "reader", "curriculum", "glossary-hits"}
    by_id = {c["id"]: c for c in config["components"]}
    leftovers = [(kind, text) for kind, text in plain if not (kind == "markdown" and any(
        c.get("props", {}).get("elem_id") in allowed_markdown and c["props"].get("value") == text for c in by_id.values()))]
    assert leftovers == [], leftovers


def test_the_shipped_table_loads_into_gradio_with_chinese_for_every_chinese_locale():
    i18n = wording.app_i18n()
    assert i18n.translations["zh"]["Ask"] == "提问"
    assert i18n.translations["en"]["Ask"] == "Ask"


def test_a_broken_wording_file_is_named_with_what_is_wrong(tmp_path):
    bad = tmp_path / "zh.yaml"
    bad.write_text('"Ask": [not, text]\n', encoding="utf-8")
    with pytest.raises(AdvisorError, match=r"zh\.yaml"):
        wording.load_table(bad)
    bad.write_text('"Ask": "提问"\n"Plan": "  "\n', encoding="utf-8")
    with pytest.raises(AdvisorError, match="Plan"):
        wording.load_table(bad)
    bad.write_text('"Ask": "提问\n', encoding="utf-8")  # unclosed quote
    with pytest.raises(AdvisorError, match="cannot read"):
        wording.load_table(bad)
    with pytest.raises(ValueError, match="empty"):
        wording.tr("  ")


def test_drop_down_values_read_in_the_browsers_language_and_stay_codes(config, advisor):
    """A banker in a Chinese browser picks 国有企业, not 'state-owned'; the value the form, the API and the
    audit read is still the code. The industries read as the bank's SME table names them."""
    from assistant.clients.rules import rules_for

    table = wording.load_table()
    for bounds in rules_for(advisor.settings.rules_dir).sme.industries.values():
        assert table[bounds.label] == bounds.label_zh
    fixed = set(wording.CHOICE_LABELS) | set(rules_for(advisor.settings.rules_dir).sme.industries)
    seen = {}
    for component in config["components"]:
        if component["type"] not in ("dropdown", "radio"):
            continue
        for label, value in component["props"].get("choices") or []:
            if value in fixed:
                keys = keys_in(label, set())
                assert keys, f"{component['type']} value {value!r} shows as plain {label!r}"
                seen[value] = table[keys.pop()]
    assert seen["state-owned"] == "国有企业" and seen["C3"] == "C3 平衡型" and seen["wholesale"] == "批发业"
    assert seen["private-banking"] == "私人银行客户" and seen["any"] == "不限"


def test_run_time_messages_keep_their_values_in_chinese_and_follow_the_page_language():
    """A message with a name or a count in it must show the same values in Chinese; the page's language
    is the browser's, as Gradio's I18n reads it."""
    import re
    from types import SimpleNamespace

    from starlette.datastructures import Headers

    table = wording.load_table()
    for english in literal_tr_calls():
        wanted = set(re.findall(r"\{(\w+)\}", english))
        assert set(re.findall(r"\{(\w+)\}", table[english])) == wanted, english
    assert wording.say("zh", "Plan `{plan_id}` submitted for review.", plan_id="p-1") == "方案 `p-1` 已提交审核。"
    assert wording.say("en", "Plan `{plan_id}` submitted for review.", plan_id="p-1") == "Plan `p-1` submitted for review."

    def request(**headers):
        return SimpleNamespace(headers=Headers(headers))

    assert wording.page_language(request(**{"accept-language": "zh-CN,zh;q=0.9"})) == "zh"
    assert wording.page_language(request(**{"accept-language": "zh-TW"})) == "zh"
    assert wording.page_language(request(**{"accept-language": "en-US,zh;q=0.5"})) == "en"
    assert wording.page_language(request()) == "en"
    assert wording.page_language(None) == "en"


def test_choice_labels_say_in_chinese_what_the_chat_says():
    """The drop-downs' Chinese and the chat's read-back of the same code come from two tables
    (zh.yaml and clients.situation.shown / clients.chinese): they must not drift apart."""
    from assistant.clients.chinese import SEGMENT_ZH
    from assistant.clients.situation.shown import FAMILY, OWNERSHIP, RISK, ROLE

    table = wording.load_table()
    chinese = {**OWNERSHIP, **{k: v[1] for k, v in (*FAMILY.items(), *ROLE.items())},
               **{k: f"{k} {v[1]}" for k, v in RISK.items()}, **SEGMENT_ZH}
    for code, zh in chinese.items():
        assert table[wording.CHOICE_LABELS[code]] == zh, code
