"""Start the Strategy Advisor app: ``python app.py`` (settings from ADVISOR_* variables or .env)."""

from assistant.interfaces.server import serve

if __name__ == "__main__":
    serve()
