"""Optional login for the app: a file of users with bcrypt password hashes and roles.

Format (YAML or JSON)::

    users:
      - username: li.wei
        password_hash: "$2b$12$..."      # advisor hash-password
        role: manager                    # manager | relationship-manager | trainer
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import bcrypt
import yaml
from pydantic import BaseModel, Field, ValidationError

from assistant.errors import InputError

Role = Literal["manager", "relationship-manager", "trainer"]


class User(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password_hash: str = Field(min_length=20)
    role: Role = "relationship-manager"


class UserFile(BaseModel):
    users: list[User] = Field(min_length=1)


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def load_users(path: Path) -> dict[str, User]:
    if not path.exists():
        raise InputError(f"auth file not found: {path} (ADVISOR_AUTH_FILE)")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        users = UserFile.model_validate(data).users
    except (ValidationError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"auth file {path} is not valid: {str(exc).splitlines()[0]}") from exc
    return {u.username: u for u in users}


class Authenticator:
    """A callable for Gradio's ``auth=``: constant-time bcrypt check, unknown users rejected."""

    def __init__(self, users: dict[str, User]) -> None:
        self.users = users
        self._dummy = hash_password("not-a-password")

    def __call__(self, username: str, password: str) -> bool:
        user = self.users.get(username)
        hashed = user.password_hash if user else self._dummy
        try:
            ok = bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
        except ValueError:
            return False
        return ok and user is not None

    def role(self, username: str | None) -> Role | None:
        user = self.users.get(username or "")
        return user.role if user else None
