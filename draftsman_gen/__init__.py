"""draftsman-gen: a compiler for event-sourced domain models."""

__version__ = "0.3.0"
