"""Review stage: an analyst shapes a day's briefing before it goes out.

``actions`` turns a command (pin, drop, merge, split, edit, note, undo, approve) into a row of
the store's ``review_actions`` table, naming its stories by their sources; ``acting`` stores
it and builds the day again (above the pipeline, which reads actions only); ``apply`` is the
stage every build of that day runs (membership edits on the cluster stage's groups before
summarize, the rest on the composed briefing); ``gate`` says whether a day may be delivered
(``review.required``); ``commands`` is ``briefing review``; ``server`` the local review page.
"""
