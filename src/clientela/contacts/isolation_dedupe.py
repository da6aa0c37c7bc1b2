"""Isolation cases for customer dedupe routes (see core/testing/isolation.py)."""
