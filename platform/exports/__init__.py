"""Exports: a run as JSON, CSV and PDF, read through the caller's scope.
Owns: the download formats and the report template; no tables (it reads executions and results).
May import: platform, platform.executions, platform.results, platform.retention.
"""
