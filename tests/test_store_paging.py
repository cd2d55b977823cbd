"""Reads of the whole collection are paged: Chroma refuses one get() of more than 32,766 records.

Found by bench/scale.py: at 100,000 chunks the keyword index (``all_chunks``) and the ingest manifest
failed with "too many SQL variables". The fast test checks that paging returns exactly what one read
does, at page sizes that split the collection unevenly and exactly; the slow one fills a real store past
the limit.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant.knowledge.chunking import Chunk
from assistant.search.store import ChromaStore


def paged(advisor, size: int) -> ChromaStore:
    store = ChromaStore(advisor.settings)
    store.page_size = size
    return store


def test_paged_reads_equal_one_read(advisor):
    whole = advisor.store.all_chunks()
    manifest = advisor.store.manifest()
    assert len(whole) < advisor.store.page_size  # the shared store is read in one page
    for size in (7, len(whole), len(whole) - 1):
        store = paged(advisor, size)
        assert [c.model_dump() for c in store.all_chunks()] == [c.model_dump() for c in whole]
        assert store.manifest() == manifest
    where = {"doc_id": whole[0].doc_id}
    assert [c.id for c in paged(advisor, 2).all_chunks(where)] == [c.id for c in whole if c.doc_id == whole[0].doc_id]


def chunk(i: int) -> Chunk:
    return Chunk(id=f"c{i:06d}", doc_id=f"d{i // 100:04d}", title="t", section="s", text=f"passage {i}", position=i % 100,
                 doc_hash="h", doc_chunks=100, source="general", topics=[], audience=[], segments=[])


@pytest.mark.slow
def test_a_store_past_chromas_single_read_limit_is_read_whole(make_settings):
    store = ChromaStore(make_settings())
    total = 33_000
    rng = np.random.default_rng(1)
    for start in range(0, total, 5_000):
        chunks = [chunk(i) for i in range(start, min(total, start + 5_000))]
        vectors = rng.standard_normal((len(chunks), 4)).astype(np.float32)
        store.upsert(chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    got = store.all_chunks()
    assert len(got) == total and len({c.id for c in got}) == total
    manifest = store.manifest()
    assert len(manifest) == total // 100 and all(state.complete for state in manifest.values())
