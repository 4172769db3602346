"""Publish: a ``Briefing`` into files.

render (HTML, PDF, JSON of one day; charts draws its inline SVG) → archive (the static site of
every day: index, actor and region pages, Atom feed, search index).
"""
