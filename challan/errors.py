"""What can go wrong with records, each a one-line message the CLI prints before exiting non-zero.
Every operation that raises one of these has changed nothing in the database."""

from __future__ import annotations

from anpr.errors import AnprError, ConfigError, InputError


class NotFoundError(AnprError):
    """No record with that id or challan number."""

    exit_code = 3


class TransitionError(AnprError):
    """The record's status does not allow this step (approving an issued challan, paying a cancelled one)."""

    exit_code = 4


class NotOwnerError(AnprError):
    """The CNIC a citizen gave is not the registered owner's: they may not contest the challan."""


class EvidenceError(AnprError):
    """An evidence file is missing or its content no longer matches the SHA-256 on record."""

    exit_code = 5


class FineError(ConfigError):
    """The fine schedule has no amount for this violation and vehicle class on that day."""


class RegistryImportError(InputError):
    """A vehicle-registry CSV row is malformed; the message names the line."""
