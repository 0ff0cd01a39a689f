"""Exports of the archive: the jobs auditors start (models, services, tasks) and the bag each
one writes (build.py)."""
