"""The app's own words in English and Chinese.

Static text (tabs, labels, buttons, hints, fixed messages) is wrapped in ``tr()`` and translated in the
browser by Gradio's I18n: the browser's language picks it, and the footer's Settings switches it. The
English text is the key, so a phrase missing from the Chinese table still reads in English rather than
as a key. Answers, plans and citations are not translated here: they come from the knowledge base in the
question's language. May import: gradio, pydantic, yaml.

>>> demo.launch(i18n=app_i18n())            # in the server
>>> gr.Button(tr("Ask"))                    # in a tab
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import gradio as gr
import yaml
from gradio.i18n import I18nData  # re-exported for type hints in the tabs
from pydantic import TypeAdapter, ValidationError

from assistant.errors import AdvisorError
from assistant.text import load_yaml

ZH_TABLE = Path(__file__).with_name("zh.yaml")
_TABLE = TypeAdapter(dict[str, str])


def tr(text: str) -> I18nData:
    """Text shown in the browser's language; the English is both the key and the fallback."""
    if not text.strip():
        raise ValueError("tr() needs the English text to translate, got an empty string")
    return I18nData(text)


# What a drop-down's values read as (the values stay the codes the profile, the API and the audit use).
CHOICE_LABELS = {
    "any": "Any", "thesis-a": "Thesis A: segmentation at Baotou city banks", "thesis-b": "Thesis B: major clients, CITIC Lanzhou",
    "general": "General banking practice", "bank": "The bank's own documents",
    "manager": "Manager", "relationship-manager": "Relationship manager", "trainer": "Trainer",
    "micro-business": "Micro business", "small-business": "Small business", "medium-enterprise": "Medium enterprise",
    "supply-chain-supplier": "Supply-chain client", "major-client": "Major client", "mass-retail": "Mass retail",
    "affluent": "Affluent", "wealth": "Wealth", "private-banking": "Private banking",
    "state-owned": "State-owned", "private": "Private", "listed-private": "Listed private",
    "local-government-platform": "Local-government financing platform", "foreign": "Foreign-funded",
    "collective": "Collective", "individual-business": "Individual business",
    "none": "No supply-chain role", "supplier": "Supplier (upstream)", "dealer": "Dealer (downstream)", "anchor": "Anchor (core) firm",
    "single": "Single", "couple": "Married, no children", "young-children": "Young children", "older-children": "Older children",
    "empty-nest": "Children grown up and gone", "retired": "Retired",
    "C1": "C1 conservative", "C2": "C2 cautious", "C3": "C3 balanced", "C4": "C4 growth", "C5": "C5 aggressive",
    "enterprise": "Enterprise", "individual": "Individual",
}


def choices(values, labels: dict[str, str] | None = None) -> list[tuple[I18nData, str]]:
    """Drop-down choices that read in the browser's language while their values stay the codes.
    ``labels`` adds English labels from data (the SME table's industries); a value with no label is data
    (a topic, a column) and reads as itself."""
    known = {**CHOICE_LABELS, **(labels or {})}
    return [(tr(known[v]) if v in known else v, v) for v in values]


def page_language(request: gr.Request | None = None) -> str:
    """The language of the page that sent a request, as Gradio's I18n picks it: the browser's first
    language (Chinese for any zh locale), so messages built on the server read like the labels around them.
    The ``gr.Request`` annotation is what makes Gradio pass the request when this is an event's function."""
    headers = getattr(request, "headers", None) if request is not None else None
    if headers is None:
        return "en"
    return "zh" if headers.get("accept-language", "").strip().lower().startswith("zh") else "en"


def say(language: str, english: str, **values) -> str:
    """A message built at run time (a name, a count in it), in the page's language: the English template
    is the key of the same table as tr(), so one file holds all the app's Chinese. Values are filled in
    after the lookup; a template missing from the table reads in English."""
    template = load_table_cached().get(english, english) if language == "zh" else english
    return template.format(**values) if values else template


def load_table(path: Path = ZH_TABLE) -> dict[str, str]:
    """English → Chinese, validated so a broken edit names its line instead of showing raw keys."""
    try:
        table = _TABLE.validate_python(load_yaml(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise AdvisorError(f"cannot read the app's Chinese wording in {path}: {exc}") from exc
    empty = [k for k, v in table.items() if not k.strip() or not v.strip()]
    if empty:
        raise AdvisorError(f"{path}: these phrases have no Chinese text: {empty[:5]}")
    return table


@lru_cache(maxsize=1)
def load_table_cached() -> dict[str, str]:
    return load_table()


def app_i18n(path: Path = ZH_TABLE) -> gr.I18n:
    """The translations Gradio needs at launch (``zh`` also serves zh-CN, zh-TW and other Chinese locales)."""
    table = load_table(path)
    return gr.I18n(en={k: k for k in table}, zh=table)
