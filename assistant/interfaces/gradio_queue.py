"""Settings of Gradio's queue that this app serves with, in a module that imports nothing heavy, so the
benchmarks' echo app (bench/echo_app.py) gets the same queue without loading the advisor.

May import: the standard library only.
"""

from __future__ import annotations

import os


def quiet_queue_analytics() -> None:
    """Gradio's queue summarises its last 10,000 events with pandas after every event, for a monitoring
    page this app does not serve: under 20 users that was about a tenth of the server's samples, and it
    grows with every request served until 10,000. Read by the queue when it is made, so call this before
    ``demo.queue()``; an operator's own values win.

    >>> quiet_queue_analytics(); demo.queue(default_concurrency_limit=4)
    """
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "200")
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100")
