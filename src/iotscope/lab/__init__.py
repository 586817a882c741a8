"""lab part."""
