"""The demo shop the agents work on in ``./run demo`` and the tests (pages, catalog, planted faults).
Owns: its own small web app and its state; no product tables.
May import: platform.
"""
