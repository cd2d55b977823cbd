"""Search: embedders, the vector store, the keyword index, hybrid retrieval and ingest.

Owns everything that turns chunks into an index and a question into ranked passages.
May import: assistant.knowledge and the bottom floor (config, errors, text, sqlite, plugins).
"""
