"""The one base class of Aisle's own errors: surfaces catch `AisleError` once and show its message."""


class AisleError(Exception):
    """An error Aisle raises on purpose, with a message meant for the person who ran the command."""
