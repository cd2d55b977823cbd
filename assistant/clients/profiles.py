"""Client profiles: what relationship staff know about a client, validated at the door.

A discriminated union (``client_type``) keeps enterprise and individual fields apart; unknown
fields are rejected so a typo such as ``employes`` is reported instead of silently ignored.
Amounts are yuan (RMB), never 10,000s: the SME table's 万元 conversion happens in one place.
Risk words ("balanced", "稳健型") and family descriptions ("married, two children aged 5 and 8") are
read into the strict values by the fixed rules in wording.py; each reading is kept on the profile
(``readings``) so the classification can say what was read and how.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from assistant.clients.rules import INDUSTRIES, FamilySituation
from assistant.clients.wording import FAMILY_HINT, RISK_HINT, read_individual
from assistant.errors import InputError
from assistant.text import load_yaml

Ownership = Literal["state-owned", "private", "listed-private", "local-government-platform", "foreign",
                       "collective", "individual-business"]
SupplyChainRole = Literal["none", "supplier", "dealer", "anchor"]
RiskAppetite = Literal["C1", "C2", "C3", "C4", "C5"]
Industry = Literal[
    "agriculture", "industry", "construction", "wholesale", "retail", "transport", "warehousing",
    "postal", "accommodation", "catering", "information_transmission", "software_it",
    "real_estate_development", "property_management", "leasing_business_services", "other",
]
assert set(INDUSTRIES) == set(Industry.__args__)  # one list, two views; keep them in step

Rmb = Annotated[float, Field(ge=0, le=1e15, description="RMB yuan (not 10,000s)")]


class _Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    region: str | None = Field(None, max_length=200)
    relationship_years: float = Field(0, ge=0, le=200)
    products_held: list[str] = Field(default_factory=list, max_length=100)
    stated_needs: list[str] = Field(default_factory=list, max_length=50)
    notes: str | None = Field(None, max_length=5000)
    id_number: str | None = Field(None, max_length=64, description="Personal data: masked in audit records.")

    @field_validator("products_held", "stated_needs")
    @classmethod
    def _short_items(cls, items: list[str]) -> list[str]:
        for item in items:
            if len(item) > 500:
                raise ValueError("each item must be at most 500 characters")
        return [i.strip() for i in items if i and i.strip()]


class EnterpriseProfile(_Profile):
    """What relationship staff know about a firm: its size, industry and ownership decide its segment.

    >>> firm = EnterpriseProfile(client_type="enterprise", name="Gao's Hardware", industry="wholesale", employees=4,
    ...                          operating_revenue_rmb=2_600_000)
    >>> firm.ownership, firm.supply_chain_role
    ('private', 'none')
    """

    client_type: Literal["enterprise"]
    industry: Industry
    ownership: Ownership = "private"
    employees: int = Field(ge=0, le=10_000_000)
    operating_revenue_rmb: Rmb
    total_assets_rmb: Rmb | None = None
    credit_rating: str | None = Field(None, max_length=200)
    supply_chain_role: SupplyChainRole = "none"
    anchor_firm: str | None = Field(None, max_length=200)


class IndividualProfile(_Profile):
    """What relationship staff know about a person; risk and family words are read into strict values.

    >>> person = IndividualProfile(client_type="individual", name="Wang Lei", age=38, aum_rmb=420_000, risk_appetite="balanced")
    >>> person.risk_appetite, person.readings
    ('C3', ["risk_appetite 'balanced' read as C3 (the word 'balanced' is level C3 of C1-C5)"])
    """

    client_type: Literal["individual"]
    age: int = Field(ge=18, le=120)
    occupation: str | None = Field(None, max_length=200)
    aum_rmb: Rmb
    annual_income_rmb: Rmb = 0
    family_situation: FamilySituation = "single"
    dependents: int = Field(0, ge=0, le=30)
    risk_appetite: RiskAppetite | None = None
    goals: list[str] = Field(default_factory=list, max_length=50)
    business_owner: bool = False
    _readings: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _read_words(cls, data, handler):
        """Read risk words and family descriptions before the strict fields see them."""
        if not isinstance(data, dict):
            return handler(data)
        data, notes = read_individual(data)
        profile = handler(data)
        profile._readings = notes
        return profile

    @property
    def readings(self) -> list[str]:
        """How free words in the input were read ("risk_appetite 'moderate' read as C3 ...")."""
        return list(self._readings)


ClientProfile = Annotated[Union[EnterpriseProfile, IndividualProfile], Field(discriminator="client_type")]
_ADAPTER = TypeAdapter(ClientProfile)
ALLOWED_HINTS = {
    "industry": "one of " + ", ".join(INDUSTRIES),
    "client_type": "'enterprise' or 'individual'",
    "risk_appetite": RISK_HINT,
    "family_situation": FAMILY_HINT,
}


class ProfileError(InputError):
    """Every problem with one profile, each naming the field and what is allowed."""

    def __init__(self, problems: list[str], label: str = "profile") -> None:
        self.problems = problems
        super().__init__(f"{label}: " + "; ".join(problems))


def describe_errors(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if p not in ("enterprise", "individual")]
        field = ".".join(loc) or "profile"
        kind = err["type"]
        if kind == "union_tag_not_found" or kind == "missing" and field == "client_type":
            problems.append("client_type: required; use 'enterprise' or 'individual'")
            continue
        if kind == "union_tag_invalid":
            problems.append(f"client_type: got {err['input'] if not isinstance(err['input'], dict) else err['input'].get('client_type')!r}; use 'enterprise' or 'individual'")
            continue
        if kind == "extra_forbidden":
            problems.append(f"{field}: unknown field (check the spelling; see the profile fields in the README)")
            continue
        message = err["msg"]
        hint = ALLOWED_HINTS.get(loc[-1] if loc else "", "")
        got = err.get("input")
        shown = "" if isinstance(got, (dict, list)) or kind == "missing" else f" (got {got!r})"
        if kind == "literal_error" and hint:
            message = f"must be {hint}"
        problems.append(f"{field}: {message}{shown}")
    return problems


def validate_profile(data: object, label: str = "profile") -> EnterpriseProfile | IndividualProfile:
    if not isinstance(data, dict):
        raise ProfileError([f"expected an object with fields such as client_type and name, got {type(data).__name__}"], label)
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ProfileError(describe_errors(exc), label) from exc


def parse_profiles_text(text: str, fmt: Literal["json", "yaml"], label: str = "profile") -> list[EnterpriseProfile | IndividualProfile]:
    try:
        data = json.loads(text) if fmt == "json" else load_yaml(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{label}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{label}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    except (RecursionError, ValueError) as exc:  # nesting deeper than the stack; ints over 4300 digits
        raise InputError(f"{label}: the {fmt.upper()} cannot be read ({str(exc).split(';')[0]}); "
                         "a profile is one object of fields such as client_type and name") from exc
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InputError(f"{label}: the file holds an empty list; add at least one profile")
    if len(items) == 1:
        return [validate_profile(items[0], label)]
    return [validate_profile(item, f"{label} #{i + 1}") for i, item in enumerate(items)]


def load_profiles(path: Path) -> list[EnterpriseProfile | IndividualProfile]:
    """Read one profile or a list of them from a JSON or YAML file."""
    if not path.exists():
        raise InputError(f"profile file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise InputError(f"{path.name}: profile files must be .json, .yaml or .yml")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name}: not UTF-8 text; save it as UTF-8") from exc
    return parse_profiles_text(text, "json" if suffix == ".json" else "yaml", path.name)


def example_profiles(folder: Path) -> dict[str, EnterpriseProfile | IndividualProfile]:
    """The shipped examples by file stem, for the app's picker and the quizzes."""
    return {p.stem: load_profiles(p)[0] for p in sorted(folder.glob("*.json"))}
