"""Client situations in the chat: read a relationship manager's message into a partial profile, say what
was read and what is missing, recommend for the client, and answer follow-ups from the client's plan.

The reader is rules and words (knowledge/data/situation_words.yaml, needs.yaml), not a language model:
what it read is shown back word for word, and the same message is always read the same way.
May import: assistant.clients (profiles, rules, segmentation, plans), assistant.answers, assistant.search,
assistant.knowledge and the bottom floor.
"""
