"""Write side of kaohe-ledger: signed acts, verification, storage, integrity."""
