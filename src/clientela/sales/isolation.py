"""Isolation cases for sales routes (see core/testing/isolation.py)."""
