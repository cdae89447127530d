"""Tenang: calm, transparent replies to customer complaints, held for human approval."""

__version__ = "0.1.0"
