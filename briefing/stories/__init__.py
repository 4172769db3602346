"""Stories: the window's tagged articles into a ranked briefing.

cluster (articles → one group per event) → summarize (a story's sources → traced sentences) →
compose (ranking, executive summary, sections, CVE and indicator tables, feed health).
"""
