"""Crisis mode: signals, spikes, incidents, follow-ups and reports."""
