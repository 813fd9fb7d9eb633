"""The vocabulary: fideslang's default taxonomy plus Charter's extensions."""

from charter.taxonomy.model import Kind, Taxonomy, Term, default_taxonomy

__all__ = ["Kind", "Taxonomy", "Term", "default_taxonomy"]
