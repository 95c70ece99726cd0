"""Pure rules: the school calendar, slot finding, half-term compliance and supervisor allocation.

No I/O, no clock reads (callers pass ``today``/``now``), no Teams SDK and no database here, so every rule can be
tested quickly and exhaustively.
"""
