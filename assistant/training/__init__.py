"""Training: the onboarding curriculum, bilingual glossary, seeded quizzes, grading and progress.

Trainers change content by editing files under knowledge/ (curriculum, glossary, rule tables,
example profiles), never code; every question is answered by the same rules the advisor uses.
May import: assistant.clients and everything below it (answers, search, knowledge, bottom floor).
"""
