"""Knowledge: documents with validated front matter, converters for the bank's files, chunking.

Parsing only: it reads files and returns models; it never embeds, stores or answers.
May import: assistant.config, assistant.errors, assistant.text, assistant.plugins.
"""
