"""Schedules: runs that start by themselves (cron), in their maker's name and priced like a start.
Owns: the schedules table and every query on it (``repository``); the rules (create, edit, turn on and off, delete with its audit record, fire) are ``agents/scheduling.py``, since a schedule starts runs through ``agents.launch``.
May import: platform.
"""
