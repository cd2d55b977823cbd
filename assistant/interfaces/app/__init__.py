"""The Gradio app: one module per tab, the named API, and ``build_app`` that puts them together.

Callbacks only translate between widgets and package calls; every decision lives in the capability
packages. May import: the capability packages, assistant.interfaces.chat/library/uploads, gradio.
"""

import os

# Gradio reads this when it is first imported: no usage analytics leave a bank's network.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
