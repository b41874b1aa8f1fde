"""CELAC-China poverty-reduction knowledge base."""
