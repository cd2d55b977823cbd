"""The Ask tab's client panel: "Read as: ..." with an Edit button, and the fields of what was read.

Widgets only: the values go to and come from assistant.clients.situation.panel, which owns every rule.
"""

from __future__ import annotations

from typing import get_args

import gradio as gr

from assistant.clients.profiles import FamilySituation, Ownership, RiskAppetite, SupplyChainRole
from assistant.clients.rules import INDUSTRIES
from assistant.clients.situation.facts import ClientFacts
from assistant.clients.situation.panel import PANEL_FIELDS, facts_to_panel
from assistant.clients.situation.state import ClientState
from assistant.interfaces.app.wording import I18nData, choices, say, tr

NO_CLIENT = "_No client in this conversation. Describe one in the chat (e.g. \"a noodle restaurant with 6 employees and " \
            "RMB 900,000 revenue wants a renovation loan\"), or pick an example below._"
ENTERPRISE_PANEL = ("industry", "ownership", "employees", "operating_revenue_rmb", "total_assets_rmb", "supply_chain_role", "anchor_firm")
INDIVIDUAL_PANEL = ("age", "aum_rmb", "annual_income_rmb", "family_situation", "dependents", "risk_appetite")


def read_as_markdown(state: ClientState | None, read_as: str = "") -> str | I18nData:
    if state is None:
        return tr(NO_CLIENT)
    lang, status = state.language, ""
    if state.pending_question:
        status = "\n\n" + say(lang, "**Missing:** {question}", question=state.pending_question)
    elif state.profile:
        status = "\n\n" + say(lang, "_This client shapes the answers below until you forget it or start a new conversation._")
    return say(lang, "**Read as:** {read_as} — edit", read_as=read_as or say(lang, "(nothing yet)")) + status


def panel_values(state: ClientState | None) -> list:
    return facts_to_panel(state.facts if state else None)


def groups_for(client_type: str | None) -> tuple:
    """The enterprise fields show unless the client is a person."""
    return gr.update(visible=client_type != "individual"), gr.update(visible=client_type == "individual")


class ClientPanel:
    """The panel's components, built inside the Ask tab's side column.

    >>> panel = ClientPanel(industry_labels(settings))
    >>> with gr.Blocks():
    ...     panel.build(list(example_profiles(settings.profiles_dir)))
    >>> panel.values(state)   # the read-as text, then the field values, in ``panel.outputs`` order
    """

    def __init__(self, industry_labels: dict[str, str] | None = None) -> None:
        self.industry_labels = industry_labels or {}
        self.fields: dict[str, gr.components.Component] = {}

    def build(self, examples: list[str]) -> None:
        self.read_as = gr.Markdown(tr(NO_CLIENT), elem_id="read-as")
        with gr.Row():
            self.edit = gr.Button(tr("Edit client"), size="sm", elem_id="edit-client")
            self.forget = gr.Button(tr("Forget client"), size="sm", elem_id="forget-client")
            self.draft = gr.Button(tr("Draft full plan"), size="sm", variant="primary", elem_id="draft-full-plan")
        with gr.Accordion(tr("Client (what was read; correct any field)"), open=False, elem_id="client-panel") as self.box:
            f = self.fields
            f["client_type"] = gr.Radio(choices(["enterprise", "individual"]), value=None, label=tr("Client type"), elem_id="client-panel-type")
            with gr.Group(visible=True) as self.enterprise:
                f["industry"] = gr.Dropdown(choices(INDUSTRIES, self.industry_labels), value=None, label=tr("Industry (2011 SME standard)"), elem_id="client-panel-industry")
                f["ownership"] = gr.Dropdown(choices(get_args(Ownership)), value=None, label=tr("Ownership"))
                f["employees"] = gr.Number(value=None, label=tr("Employees"), elem_id="client-panel-employees")
                f["operating_revenue_rmb"] = gr.Number(value=None, label=tr("Operating revenue (RMB yuan)"), elem_id="client-panel-revenue")
                f["total_assets_rmb"] = gr.Number(value=None, label=tr("Total assets (RMB yuan)"), elem_id="client-panel-assets")
                f["supply_chain_role"] = gr.Dropdown(choices(get_args(SupplyChainRole)), value=None, label=tr("Supply-chain role"))
                f["anchor_firm"] = gr.Textbox(label=tr("Anchor firm"))
            with gr.Group(visible=False) as self.individual:
                f["age"] = gr.Number(value=None, label=tr("Age"), elem_id="client-panel-age")
                f["aum_rmb"] = gr.Number(value=None, label=tr("AUM at the bank (RMB yuan)"), elem_id="client-panel-aum")
                f["annual_income_rmb"] = gr.Number(value=None, label=tr("Annual income (RMB yuan)"))
                f["family_situation"] = gr.Dropdown(choices(get_args(FamilySituation)), value=None, label=tr("Family situation"))
                f["dependents"] = gr.Number(value=None, label=tr("Dependents"))
                f["risk_appetite"] = gr.Dropdown(choices(get_args(RiskAppetite)), value=None, label=tr("Risk appetite (C1-C5)"))
            f["stated_needs"] = gr.Textbox(label=tr("Stated needs (one per line)"), lines=2, elem_id="client-panel-needs")
            self.update = gr.Button(tr("Update client"), variant="primary", elem_id="update-client")
            with gr.Row():
                self.example = gr.Dropdown(examples, value=None, label=tr("…or use an example client"), elem_id="client-example")
                self.use_example = gr.Button(tr("Use example"), size="sm", elem_id="use-example")
            self.upload = gr.File(label=tr("…or load a profile (JSON/YAML)"), file_types=[".json", ".yaml", ".yml"], type="filepath")
        assert tuple(self.fields) == PANEL_FIELDS[:1] + ENTERPRISE_PANEL + INDIVIDUAL_PANEL + PANEL_FIELDS[-1:]
        self.edit.click(lambda: gr.Accordion(open=True), None, self.box, api_visibility="private")
        # only a person's click toggles the groups here: a callback that sets the type sets the groups in the
        # same output (a chained .change landed after the answer and re-rendered fields the user was editing)
        f["client_type"].input(groups_for, f["client_type"], [self.enterprise, self.individual], api_visibility="private")

    @property
    def inputs(self) -> list:
        return [self.fields[k] for k in PANEL_FIELDS]

    @property
    def outputs(self) -> list:
        """What every client-changing callback returns, in order: read-as text, the panel values, then the
        enterprise and individual groups' visibility."""
        return [self.read_as, *self.inputs, self.enterprise, self.individual]

    def values(self, state: ClientState | None, read_as: str = "") -> list:
        values = panel_values(state)
        return [read_as_markdown(state, read_as), *values, *groups_for(values[0])]

    def unchanged(self) -> list:
        """No change to the read-as text, any panel field or group (works before the panel is laid out)."""
        return [gr.update() for _ in range(1 + len(PANEL_FIELDS) + 2)]


def state_of(data: dict | None) -> ClientState | None:
    return ClientState.model_validate(data) if data else None


def facts_of(state: ClientState | None) -> ClientFacts | None:
    return state.facts if state else None
