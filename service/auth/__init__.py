"""API keys and roles: agent < reviewer < admin."""
