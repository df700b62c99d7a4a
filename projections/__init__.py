"""Read side of kaohe-ledger: scoring, grading, carry-over and audit views, replayed from the log."""
