"""Relational storage (PostgreSQL in production, SQLite embedded): models and sessions."""
