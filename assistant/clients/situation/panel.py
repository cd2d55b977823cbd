"""The editable client panel beside the chat: the facts as form values and back, validated.

The panel shows exactly what was read, so a wrong reading ("retail" for a retail client) is fixed in one
field instead of retyping the message; the UI only moves these values, every rule is here.
"""

from __future__ import annotations

from pydantic import ValidationError

from assistant.clients.profiles import describe_errors
from assistant.clients.situation.facts import ClientFacts
from assistant.errors import InputError

PANEL_FIELDS = ("client_type", "industry", "ownership", "employees", "operating_revenue_rmb", "total_assets_rmb",
                "supply_chain_role", "anchor_firm", "age", "aum_rmb", "annual_income_rmb", "family_situation", "dependents",
                "risk_appetite", "stated_needs")
WHOLE = ("employees", "age", "dependents")


def facts_to_panel(facts: ClientFacts | None) -> list:
    """Values in PANEL_FIELDS order (None where nothing is known); needs one per line."""
    if facts is None:
        return [None] * (len(PANEL_FIELDS) - 1) + [""]
    values = []
    for field in PANEL_FIELDS:
        value = getattr(facts, field)
        values.append("\n".join(value) if field == "stated_needs" else value)
    return values


def panel_to_facts(values: list, base: ClientFacts | None) -> ClientFacts:
    """The panel's values as facts; fields the panel does not show (name, occupation) are kept from ``base``.

    Raises InputError naming each bad field ("employees: Input should be greater than or equal to 0 (got -3)").
    """
    data = {k: v for k, v in (base.model_dump() if base else {}).items() if k not in PANEL_FIELDS and k != "need_ids"}
    for field, value in zip(PANEL_FIELDS, values):
        if field == "stated_needs":
            data[field] = [line.strip() for line in (value or "").replace(";", "\n").splitlines() if line.strip()]
        elif value in (None, "", "any"):
            data[field] = None
        elif field in WHOLE and isinstance(value, (int, float)):
            if value != int(value):
                raise InputError(f"{field}: a whole number is needed (got {value})")
            data[field] = int(value)
        else:
            data[field] = value
    if data.get("client_type") == "enterprise":
        data.update({k: None for k in ("age", "aum_rmb", "annual_income_rmb", "family_situation", "dependents", "risk_appetite")})
    elif data.get("client_type") == "individual":
        data.update({k: None for k in ("industry", "ownership", "employees", "operating_revenue_rmb", "total_assets_rmb",
                                       "supply_chain_role", "anchor_firm")})
    try:
        return ClientFacts.model_validate(data)
    except ValidationError as exc:
        raise InputError("client panel: " + "; ".join(describe_errors(exc))) from exc
