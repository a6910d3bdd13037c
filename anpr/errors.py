"""Errors a user can act on. The CLI prints their message on one line and exits non-zero."""


class AnprError(Exception):
    """Base for expected failures: bad input, bad config, missing models."""

    exit_code = 1


class InputError(AnprError):
    """An input file or stream cannot be used (missing, empty, not an image or video)."""

    exit_code = 2


class ConfigError(AnprError):
    """A configuration file (site, fines, ...) is malformed; the message names the key."""

    exit_code = 2
