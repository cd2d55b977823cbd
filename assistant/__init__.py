"""Strategy Advisor: a grounded advisory assistant for commercial banks."""

__version__ = "0.1.0"
