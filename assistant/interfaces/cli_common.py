"""What every ``advisor`` command shares: one-line errors, settings from the environment, JSON output.

Its own module so that the main command and the trainer's commands both use it without importing
each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

import typer
from pydantic import BaseModel, ValidationError

from assistant.config import Settings
from assistant.errors import AdvisorError


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def friendly(fn: Callable) -> Callable:
    """Turn the errors a user can cause or fix into one line, never a traceback."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except ValidationError as exc:
            fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors()))
        except (AdvisorError, FileNotFoundError, IsADirectoryError, PermissionError, ValueError) as exc:
            fail(str(exc))
    return wrapper


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        fail("bad setting: " + "; ".join(f"ADVISOR_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()))
        raise  # unreachable


def emit_json(model: BaseModel | dict | list) -> None:
    if isinstance(model, BaseModel):
        typer.echo(model.model_dump_json())
    else:
        typer.echo(json.dumps(model, ensure_ascii=False, default=str))
