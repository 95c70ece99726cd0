"""Exports for governors and inspection (issue 12): one half term's attendance register, compliance summary and
audit trail as .csv and .xlsx, and the governors' one-page summary as .docx.

- `files.py`  pure: view models → bytes (csv, openpyxl, python-docx); no I/O, no clock;
- `gather.py` reads the store and the compliance rules into those view models;
- the journey (`bot/journeys/exports.py`) asks, audits, stores the files and queues their uploads to the
  Safeguarding channel's files through the outbox, and says where they landed once they have.
"""
