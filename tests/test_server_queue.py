"""The app's Gradio queue: settings read when the queue is made (no server needed)."""

import gradio as gr

from assistant.interfaces.gradio_queue import quiet_queue_analytics


def _queue(monkeypatch, **env):
    for name in ("GRADIO_ANALYTICS_MAX_EVENTS", "GRADIO_ANALYTICS_CACHE_FREQUENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    quiet_queue_analytics()
    with gr.Blocks() as demo:
        gr.Markdown("queue")
    demo.queue()
    return demo._queue


def test_the_queue_summarises_a_few_hundred_events_now_and_then_not_ten_thousand_after_each(monkeypatch):
    queue = _queue(monkeypatch)
    # read by Gradio itself: a renamed setting in a later Gradio would leave its defaults (10,000 and 1)
    assert queue.ANALYTICS_MAX_EVENTS == 200 and queue.ANAYLTICS_CACHE_FREQUENCY == 100


def test_an_operators_own_values_win(monkeypatch):
    queue = _queue(monkeypatch, GRADIO_ANALYTICS_MAX_EVENTS="5000", GRADIO_ANALYTICS_CACHE_FREQUENCY="1")
    assert queue.ANALYTICS_MAX_EVENTS == 5000 and queue.ANAYLTICS_CACHE_FREQUENCY == 1
