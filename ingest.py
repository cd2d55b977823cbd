"""Ingest knowledge/ into the vector store: ``python ingest.py [--rebuild] [--source DIR]``."""

from assistant.interfaces.cli import ingest_main

if __name__ == "__main__":
    ingest_main()
