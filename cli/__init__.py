"""Thin click commands over ledger and projections."""
