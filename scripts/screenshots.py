"""Screenshots of the four tabs on the full knowledge base, for the README.

Usage: .venv/bin/python scripts/screenshots.py [OUT_DIR]   (needs Debian's chromium; uses ADVISOR_DATA_DIR
or a temporary store, which is ingested on first start)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = os.environ.get("ADVISOR_DATA_DIR") or tempfile.mkdtemp(prefix="advisor-shots-")
    env = {**os.environ, "ADVISOR_PORT": str(port), "ADVISOR_DATA_DIR": data}
    app = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(url)
            page.fill("#question textarea", "How should a city commercial bank tier its retail clients?")
            page.click("#ask-button")
            page.wait_for_selector("#sources :text('[1]')")
            page.screenshot(path=str(out / "ask.png"))
            page.get_by_role("tab", name="Plan").click()
            page.click("#example input")
            page.get_by_role("option", name="p04-supply-chain-supplier").click()
            page.click("#load-example")
            page.wait_for_selector("#form-note :text('Loaded example')")
            page.click("#draft-plan")
            page.wait_for_selector("#plan-preview :text('Client service plan')")
            page.screenshot(path=str(out / "plan.png"))
            page.get_by_role("tab", name="Training").click()
            page.wait_for_selector("#curriculum")
            page.screenshot(path=str(out / "training.png"))
            page.get_by_role("tab", name="Knowledge").click()
            page.wait_for_selector("#stats :text('documents')")
            page.screenshot(path=str(out / "knowledge.png"))
            browser.close()
    finally:
        app.terminate()
        app.wait(timeout=30)
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
