"""Charter: the privacy statement as executable code."""

__version__ = "0.1.0"
