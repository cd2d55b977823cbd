"""Start the app: settings, advisor, first-run ingest, Gradio server. ``app.py`` calls ``serve()``."""

from __future__ import annotations

import logging
import os
from typing import Any, NamedTuple

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from assistant.answers.advisor import Advisor  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.governance.auth import Authenticator, load_users  # noqa: E402
from assistant.interfaces.gradio_queue import quiet_queue_analytics  # noqa: E402

log = logging.getLogger("assistant")


class Built(NamedTuple):
    """What ``create`` builds: the advisor, the app's Blocks, the API-only Blocks and the login (or None).

    >>> built = create(Settings())
    >>> built.demo.launch(prevent_thread_lock=True); mount_api(built.demo, built.api, built.auth)
    """

    advisor: Advisor
    demo: Any
    api: Any
    auth: Authenticator | None


API_PATH = "/api"


def create(settings: Settings | None = None) -> Built:
    """Build the advisor and both Blocks without starting a server, for tests and embedding."""
    from assistant.interfaces.app.build import build_api, build_app
    from assistant.interfaces.app.common import AppContext

    from assistant.database.migrate import ensure_all

    settings = settings or Settings()
    for store in ensure_all(settings):   # before anything is served: a release's new schema, under a lock
        log.info("database: %s", store.line)
    advisor = Advisor.from_settings(settings)
    report = advisor.ensure_ingested()
    if report is not None:
        log.info("first start: %s", report.summary())
    auth = Authenticator(load_users(settings.auth_file)) if settings.auth_file else None
    training = None
    try:
        from assistant.interfaces.app.training_tab import build_training_tab as training  # noqa: F811
    except ImportError:
        pass
    ctx = AppContext(advisor, auth)
    return Built(advisor, build_app(advisor, training, auth, ctx=ctx), build_api(ctx), auth)


def warm_app(advisor: Advisor) -> int:
    """Embed what answers read, then draft the example plans, so the chat's first recommendations are
    quick too; the log line "warm-up:" marks the end (benchmarks wait for it)."""
    from assistant.clients.plans import warm_plans
    from assistant.clients.profiles import example_profiles

    try:
        count = advisor.warm_up()
        folder = advisor.settings.profiles_dir
        plans = warm_plans(advisor, example_profiles(folder).values()) if folder.is_dir() else 0
        log.info("warm-up: %d sentences embedded, %d example plans drafted", count, plans)
        return count
    except Exception:  # a failed warm-up only costs speed; never take the app down
        log.exception("warm-up failed")
        return 0


def _stop_on_sigterm() -> None:
    """Turn SIGTERM (systemd, docker stop, a test) into the same orderly stop as Ctrl+C, so Gradio's
    shutdown and the exit handlers run: they delete plan downloads, which name clients."""
    import signal
    import threading

    def stop(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def mount_api(demo, api, auth, path: str = API_PATH) -> str:
    """Serve the API-only Blocks at ``path`` on the running app's own server (same port, same proxy, same
    login), and start its queue the way ``launch`` starts the app's: through its startup-events route, in
    the server's event loop. Returns the API's URL."""
    import urllib.request

    import gradio as gr

    gr.mount_gradio_app(demo.server_app, api, path, auth=auth, show_error=False, footer_links=["api"])
    url = f"{demo.local_url.rstrip('/')}{path}/"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # never through an HTTP_PROXY
    with direct.open(f"{url}gradio_api/startup-events", timeout=30) as reply:
        reply.read()
    return url


def serve(settings: Settings | None = None, block: bool = True):
    settings = settings or Settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    built = create(settings)
    import threading

    threading.Thread(target=warm_app, args=(built.advisor,), name="warm-up", daemon=True).start()
    quiet_queue_analytics()
    for blocks in (built.demo, built.api):
        blocks.queue(default_concurrency_limit=4, max_size=200)
    if block:
        _stop_on_sigterm()
    from assistant.interfaces.app.wording import app_i18n

    launched = built.demo.launch(server_name=settings.host, server_port=settings.port or None, auth=built.auth,
                                 i18n=app_i18n(), prevent_thread_lock=True, show_error=False,
                                 footer_links=["api", "settings"], allowed_paths=[], quiet=not block)
    api_url = mount_api(built.demo, built.api, built.auth)
    log.info("API for programs (gradio_client): %s", api_url)
    if block:
        built.demo.block_thread()
    return launched
