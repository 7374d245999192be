"""gasguard: CLI, settings and process wiring. Imports the other packages; none imports it."""

__version__ = "0.1.0"
