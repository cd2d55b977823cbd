"""What the chat knows about a client: a partial profile, the words each fact came from, and what is missing.

``ClientFacts`` is the profile with every field optional, so a message that gives only an industry and a
headcount can be held, shown and completed in the next turn; ``to_data`` turns it into the strict profile
the Plan tab uses once the facts decide the segment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.clients.profiles import (
    EnterpriseProfile,
    FamilySituation,
    Industry,
    IndividualProfile,
    Ownership,
    RiskAppetite,
    SupplyChainRole,
)

ENTERPRISE_ONLY = ("industry", "ownership", "employees", "operating_revenue_rmb", "total_assets_rmb", "supply_chain_role",
                   "anchor_firm")
INDIVIDUAL_ONLY = ("age", "occupation", "aum_rmb", "annual_income_rmb", "family_situation", "dependents", "risk_appetite",
                   "business_owner")
FIELD_LABELS = {
    "client_type": ("client type", "客户类型"), "industry": ("industry", "行业"), "ownership": ("ownership", "所有制"),
    "employees": ("employees", "员工"), "operating_revenue_rmb": ("revenue", "营业收入"),
    "total_assets_rmb": ("total assets", "资产总额"), "supply_chain_role": ("supply-chain role", "供应链角色"),
    "anchor_firm": ("anchor firm", "核心企业"), "age": ("age", "年龄"), "occupation": ("occupation", "职业"),
    "aum_rmb": ("AUM at the bank", "在我行资产"), "annual_income_rmb": ("annual income", "年收入"),
    "family_situation": ("family", "家庭"), "dependents": ("dependents", "抚养子女"), "risk_appetite": ("risk appetite", "风险偏好"),
    "business_owner": ("business owner", "企业主"), "stated_needs": ("need", "需求"), "name": ("name", "称呼"),
}


class ClientFacts(BaseModel):
    """A profile in progress: every field optional, the same names and allowed values as the profile.

    >>> ClientFacts(client_type="enterprise", industry="catering", employees=6).missing_for_profile()
    ['operating_revenue_rmb']
    """

    model_config = ConfigDict(extra="forbid")

    client_type: Literal["enterprise", "individual"] | None = None
    name: str | None = Field(None, max_length=200)
    industry: Industry | None = None
    ownership: Ownership | None = None
    employees: int | None = Field(None, ge=0, le=10_000_000)
    operating_revenue_rmb: float | None = Field(None, ge=0, le=1e15)
    total_assets_rmb: float | None = Field(None, ge=0, le=1e15)
    supply_chain_role: SupplyChainRole | None = None
    anchor_firm: str | None = Field(None, max_length=200)
    age: int | None = Field(None, ge=18, le=120)
    occupation: str | None = Field(None, max_length=200)
    aum_rmb: float | None = Field(None, ge=0, le=1e15)
    annual_income_rmb: float | None = Field(None, ge=0, le=1e15)
    family_situation: FamilySituation | None = None
    dependents: int | None = Field(None, ge=0, le=30)
    risk_appetite: RiskAppetite | None = None
    business_owner: bool | None = None
    stated_needs: list[str] = Field(default_factory=list, max_length=50)
    need_ids: list[str] = Field(default_factory=list, description="Needs (ids of needs.yaml) the stated needs map to.")

    def known(self) -> dict:
        return {k: v for k, v in self.model_dump().items() if v not in (None, [], "")}

    def merged(self, newer: "ClientFacts") -> "ClientFacts":
        """This client with what a later message added or corrected (a later value wins; needs accumulate)."""
        data = self.model_dump()
        for key, value in newer.model_dump().items():
            if key in ("stated_needs", "need_ids"):
                data[key] = list(dict.fromkeys([*data[key], *value]))
            elif value is not None:
                data[key] = value
        return ClientFacts.model_validate(data)

    def missing_for_profile(self) -> list[str]:
        if self.client_type == "enterprise":
            return [k for k in ("industry", "employees", "operating_revenue_rmb") if getattr(self, k) is None]
        if self.client_type == "individual":
            return [k for k in ("age", "aum_rmb") if getattr(self, k) is None]
        return ["client_type"]

    @classmethod
    def from_profile(cls, profile: EnterpriseProfile | IndividualProfile, need_ids: list[str] | None = None) -> "ClientFacts":
        data = profile.model_dump(exclude_none=True)
        keep = {k: v for k, v in data.items() if k in cls.model_fields}
        return cls.model_validate({**keep, "need_ids": need_ids or []})

    def to_data(self, name: str) -> dict:
        """The fields the strict profile takes (defaults for the rest are the profile's own)."""
        own = ENTERPRISE_ONLY if self.client_type == "enterprise" else INDIVIDUAL_ONLY
        data = {"client_type": self.client_type, "name": self.name or name, "stated_needs": list(self.stated_needs)}
        for key in own:
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


class ReadItem(BaseModel):
    """One fact and the words it was read from, shown back as "Read as" so nothing is silently assumed."""

    field: str
    value: str | float | int | bool | list[str]
    shown: str = Field(description="How the fact reads to a banker: 'revenue RMB 900,000', '营业收入 90万元'.")
    words: str = Field(description="The words of the message it came from.")
    note: str = ""


class Missing(BaseModel):
    field: str
    why: str


class SituationRead(BaseModel):
    """What one message said about a client, what it did not say that matters, and what to ask next."""

    language: Literal["en", "zh"] = "en"
    is_situation: bool = Field(False, description="The message describes a client (facts read, or a client named).")
    facts: ClientFacts = Field(default_factory=ClientFacts)
    read_as: list[ReadItem] = Field(default_factory=list)
    unread: list[str] = Field(default_factory=list, description="Amounts or words the reader could not place.")
    missing: list[Missing] = Field(default_factory=list)
    question: str | None = Field(None, description="The one follow-up question, when a fact that decides the segment is missing.")
    assumptions: list[str] = Field(default_factory=list)

    def read_as_text(self) -> str:
        items = "，".join(i.shown for i in self.read_as) if self.language == "zh" else ", ".join(i.shown for i in self.read_as)
        return items or ("（未读到客户信息）" if self.language == "zh" else "(nothing read about the client)")
