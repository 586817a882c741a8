"""fingerprint part."""
