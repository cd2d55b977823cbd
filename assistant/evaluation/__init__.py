"""Evaluation: retrieval and answer quality on public benchmarks (BEIR) and on our golden sets.

May import: assistant.answers, assistant.search, assistant.knowledge and the bottom floor.
"""
