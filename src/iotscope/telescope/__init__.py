"""telescope part."""
