"""Isolation cases for customer imports routes (see core/testing/isolation.py)."""
