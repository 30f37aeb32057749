"""Moderation: reports of messages and threads, the curators' queue, hidden content and suspended accounts.

It sits above `threads` (it hides their messages and threads) and below `capitalisation`. The threads layer never
imports it: it reads `Message.hidden_at` and `Thread.hidden_at`, which this layer sets.
"""
