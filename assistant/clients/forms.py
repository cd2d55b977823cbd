"""The plan form's fields and a client profile, both ways, so the UI holds no parsing logic."""

from __future__ import annotations

from pydantic import BaseModel

from assistant.clients.profiles import (
    EnterpriseProfile,
    IndividualProfile,
    validate_profile,
)

ENTERPRISE_FIELDS = ("industry", "ownership", "employees", "operating_revenue_rmb", "total_assets_rmb", "credit_rating",
                     "supply_chain_role", "anchor_firm")
INDIVIDUAL_FIELDS = ("age", "occupation", "aum_rmb", "annual_income_rmb", "family_situation", "dependents",
                     "risk_appetite", "goals", "business_owner")


class ProfileForm(BaseModel):
    """Everything the form can hold; blank fields are simply left out of the profile."""

    client_type: str = "enterprise"
    name: str | None = None
    region: str | None = None
    relationship_years: float | None = None
    products_held: str = ""
    stated_needs: str = ""
    industry: str | None = None
    ownership: str | None = None
    employees: float | None = None
    operating_revenue_rmb: float | None = None
    total_assets_rmb: float | None = None
    credit_rating: str | None = None
    supply_chain_role: str | None = None
    anchor_firm: str | None = None
    age: float | None = None
    occupation: str | None = None
    aum_rmb: float | None = None
    annual_income_rmb: float | None = None
    family_situation: str | None = None
    dependents: float | None = None
    risk_appetite: str | None = None
    goals: str = ""
    business_owner: bool = False


def _lines(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", "\n").splitlines() if part.strip()]


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def form_to_data(form: ProfileForm) -> dict:
    data: dict = {"client_type": form.client_type, "name": form.name}
    for key in ("region", "relationship_years"):
        value = getattr(form, key)
        if value not in (None, ""):
            data[key] = _number(value) if isinstance(value, float) else value
    data["products_held"] = _lines(form.products_held)
    data["stated_needs"] = _lines(form.stated_needs)
    own = ENTERPRISE_FIELDS if form.client_type == "enterprise" else INDIVIDUAL_FIELDS
    for key in own:
        value = getattr(form, key)
        if key == "goals":
            data[key] = _lines(value)
        elif isinstance(value, float):
            data[key] = _number(value)
        elif value not in (None, ""):
            data[key] = value
    return {k: v for k, v in data.items() if v is not None}


def form_to_profile(form: ProfileForm) -> EnterpriseProfile | IndividualProfile:
    """Raises ProfileError naming each bad field."""
    return validate_profile(form_to_data(form), "form")


def profile_to_form(profile: EnterpriseProfile | IndividualProfile) -> ProfileForm:
    data = profile.model_dump()
    for key in ("products_held", "stated_needs", "goals"):
        if key in data:
            data[key] = "\n".join(data[key])
    return ProfileForm.model_validate({k: v for k, v in data.items() if k in ProfileForm.model_fields})
