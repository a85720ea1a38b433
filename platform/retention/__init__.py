"""Retention: old runs are archived to object storage, not destroyed, and restored on request.

Owns: the retention policy per workspace, the archive document and its packs, archiving passes, restore
requests and their job, retention alerts, and the expiry of files agents made.
May import: platform, platform.executions, platform.results, notifications.
"""
