"""Deliver: a built briefing to its readers.

interests (a reader's filter over a briefing) → send (e-mail per recipient over SMTP, and the
deliveries record) and webhook (Slack, Teams, JSON).
"""
