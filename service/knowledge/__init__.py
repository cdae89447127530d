"""The brand's knowledge pack: loading, validation, scaffolding and ingestion into the vector store."""
