"""Clients: profiles, rule tables, explained segmentation, cited service plans, exports, books of clients.

May import: assistant.answers, assistant.search, assistant.knowledge and the bottom floor.
"""
