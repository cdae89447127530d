"""Versioned prompt files: loading, validation and provenance (name, version, sha256)."""
