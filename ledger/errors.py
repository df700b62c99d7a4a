"""The refusals the ledger raises; each renders as one line naming the problem."""


class LedgerError(Exception):
    """A refused input or act: the message is one line, shown to the user as `Error: …`."""


class SchemeError(LedgerError):
    """A scheme file that does not validate: names the file, the key path and the problem."""

    def __init__(self, problem: str, path: str = "", file: str = ""):
        self.file, self.path, self.problem = file, path, problem
        where = ": ".join(p for p in (file, path) if p)
        super().__init__(f"{where}: {problem}" if where else problem)

    def in_file(self, file: str) -> "SchemeError":
        """The same error, naming the file it came from."""
        return SchemeError(self.problem, self.path, file)


class Refused(LedgerError):
    """An act the ledger will not store (bad signature, unknown signer, wrong role, unknown unit, closed year…)."""


class NotFound(LedgerError):
    """A referenced thing (event, adjustment, year, signatory) that is not in the ledger."""
