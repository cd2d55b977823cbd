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


def app_i18n(path: Path = ZH_TABLE) -> gr.I18n:
    """The translations Gradio needs at launch (``zh`` also serves zh-CN, zh-TW and other Chinese locales)."""
    table = load_table(path)
    return gr.I18n(en={k: k for k in table}, zh=table)
