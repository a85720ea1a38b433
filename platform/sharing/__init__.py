"""Sharing: a run shown to a teammate or through a password-protected link.
Owns: the execution_shares and share_links tables, link passwords and their lockout.
May import: platform, platform.executions, notifications.
"""
