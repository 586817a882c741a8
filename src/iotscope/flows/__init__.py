"""flows part."""
