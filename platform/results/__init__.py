"""Results: what a run produced for people to act on (recommendations, reports, scores, content, action items).
Owns: the execution_results and result_revisions tables, their kinds and statuses, decisions and publishing.
May import: platform, platform.executions, platform.connectors.
"""
