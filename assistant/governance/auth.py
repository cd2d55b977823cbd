"""Optional login for the app: a file of users with bcrypt password hashes and roles.

Format (YAML or JSON)::

    users:
      - username: li.wei
        password_hash: "$2b$12$..."      # advisor hash-password
        role: manager                    # manager | relationship-manager | trainer | knowledge-editor

Roles: managers approve plans and may publish knowledge; relationship managers draft and submit
plans; trainers run training; knowledge editors may publish (upload) documents to the knowledge base.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import bcrypt
import yaml
from pydantic import BaseModel, Field, ValidationError

from assistant.errors import InputError
from assistant.text import load_yaml

Role = Literal["manager", "relationship-manager", "trainer", "knowledge-editor"]
PUBLISHERS: frozenset[str] = frozenset({"manager", "knowledge-editor"})


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
        data = json.loads(text) if path.suffix == ".json" else load_yaml(text)
        users = UserFile.model_validate(data).users
    except (ValidationError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"auth file {path} is not valid: {str(exc).splitlines()[0]}") from exc
    return {u.username: u for u in users}


class NotAllowed(InputError):
    """The signed-in user's role does not allow the action; the message names the roles that do."""


def require_publisher(login_on: bool, user: str | None, role: str | None) -> None:
    """Uploads change what every user is told: with login on, only a publishing role may upload."""
    if login_on and role not in PUBLISHERS:
        raise NotAllowed(f"{user or 'this user'} ({role or 'no role'}) may not add documents to the knowledge base: "
                         f"ask a manager or a knowledge-editor (roles allowed: {', '.join(sorted(PUBLISHERS))})")


class Authenticator:
    """A callable for Gradio's ``auth=``: constant-time bcrypt check, unknown users rejected.

    >>> auth = Authenticator(load_users(settings.auth_file))
    >>> auth("li.wei", "correct horse battery staple"), auth.role("li.wei")
    (True, 'manager')
    """

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
