"""Human review: draft states, approvals, the append-only hash-chained audit trail."""
