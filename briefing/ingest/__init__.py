"""Ingest: feeds and article pages into the store.

fetch (bounded HTTP) and netguard (which addresses a fetch may reach) → poll (conditional GET
of every feed; feedparse and intake parse and store in a worker process, see workers) →
extract (article pages → clean text, in a process pool). probe checks feeds without storing.
"""
