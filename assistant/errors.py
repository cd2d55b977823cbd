"""Errors users can read: each says what was wrong and how to fix it."""


class AdvisorError(Exception):
    """Base for every error the CLI and app show as one clear line instead of a traceback."""


class InputError(AdvisorError, ValueError):
    """The user's input (question, profile, file, option) is not acceptable."""
