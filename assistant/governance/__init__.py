"""Governance: the append-only audit trail, plan review and approval, login and roles, feedback,
knowledge versions and currency warnings: what a bank's auditors ask for.

May import: assistant.clients, assistant.answers and everything below them.
"""
