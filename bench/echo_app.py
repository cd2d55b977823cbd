"""The baseline for "app start to first answer": the smallest Gradio app with the same /ask signature.

It imports gradio, registers one API endpoint that echoes the question, and serves on ADVISOR_PORT
the same way ``assistant.interfaces.server.serve`` does (queue, loopback, quiet). No model, no store.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402


def ask(question: str, k: int = 5, filters: dict | None = None) -> dict:
    """Echo the question."""
    return {"question": question, "answer": question, "grounded": False, "citations": []}


def main() -> None:
    from assistant.interfaces.gradio_queue import quiet_queue_analytics

    with gr.Blocks() as demo:
        gr.api(ask, api_name="ask")
    quiet_queue_analytics()  # the same queue settings as the app, so the baseline stays like for like
    demo.queue(default_concurrency_limit=4, max_size=200)
    demo.launch(server_name="127.0.0.1", server_port=int(os.environ["ADVISOR_PORT"]), show_error=False,
                footer_links=["api"], quiet=True)


if __name__ == "__main__":
    main()
