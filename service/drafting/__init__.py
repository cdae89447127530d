"""Drafting: complaint -> classification -> retrieval -> reply variants -> rubric -> stored draft."""
