"""Connectors: a workspace's way into its shop (where approved content is published).
Owns: the connectors table and its encrypted secrets.
May import: platform.
"""
