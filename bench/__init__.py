"""Benchmarks of kaohe-ledger against hardware floors measured in the same run (see docs/performance.md)."""
