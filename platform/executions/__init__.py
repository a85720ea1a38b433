"""Executions: the permanent record of every agent run: who started it, its inputs and code, its state.
Owns: the executions, execution_steps, execution_items, execution_logs and execution_reviews tables (all their SQL is in ``repository``, ``lifecycle_repository`` and ``archive_repository``), the state machine, the visibility rule, one ``finish``.
May import: platform, platform.results, billing, notifications.
"""
