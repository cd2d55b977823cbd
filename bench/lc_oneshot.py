"""The baseline for the one-shot ``advisor ask``: a plain LangChain script over the same store.

One process: import, load the same embedding model, open the same Chroma folder and collection,
``similarity_search(question, k=5)``, print the best passage, exit. No BM25, no composer.
Usage: ``python bench/lc_oneshot.py QUESTION`` with ADVISOR_DATA_DIR set.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    from assistant.config import DEFAULT_MODEL
    from assistant.search.embeddings import Embedder, LangChainEmbeddings

    path = os.path.join(os.environ["ADVISOR_DATA_DIR"], "chroma")
    client = chromadb.PersistentClient(path=path, settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(client=client, collection_name="advisor", embedding_function=LangChainEmbeddings(Embedder(DEFAULT_MODEL)))
    docs = store.similarity_search(sys.argv[1], k=5)
    print(docs[0].page_content if docs else "(nothing found)")


if __name__ == "__main__":
    main()
