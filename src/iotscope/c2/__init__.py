"""c2 part."""
