"""Answers: the Advisor facade, the extractive and language-model composers, grounding, prompts.

Turns ranked passages into a cited answer a banker can read, and says so when nothing answers.
May import: assistant.search, assistant.knowledge and the bottom floor.
"""
