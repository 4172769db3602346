"""briefing: a daily threat-briefing generator.

feeds.yaml -> config -> poll -> store -> extract -> tag -> compose -> render -> archive.
"""

__version__ = "0.1.0"
