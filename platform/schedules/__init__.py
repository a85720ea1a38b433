"""Schedules: the table and every query on it (``repository``; members reach their own, admins all).
The rules (checked like a start, priced, run now, turned on and off, fired, audited) are
``agents/scheduling.py``: a schedule starts runs through ``agents.launch``. Imports platform only.
"""
