"""Isolation cases for billing routes (see core/testing/isolation.py)."""
