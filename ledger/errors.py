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


def first_line(exc: BaseException) -> str:
    """The first line of a library's error, for a one-line message: without SQLAlchemy's "(psycopg.OperationalError) "
    prefix, which names a Python class to a user who needs the driver's words."""
    lines = str(exc).strip().splitlines()
    if not lines:
        return exc.__class__.__name__
    text = lines[0]
    if text.startswith("(") and ") " in text and " " not in text[1:text.index(")")]:
        text = text[text.index(") ") + 2:]
    return text
