"""Tenancy: the two walls of DESIGN.md (application scoping and PostgreSQL Row-Level Security)."""
