"""Adapters: the only modules that import the third-party SDKs (sentence-transformers, chromadb,
SQLAlchemy, LangChain/OpenAI). Each implements a port from ``service.ports`` and translates library
errors into ``service.errors``."""
