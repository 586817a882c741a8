"""survey part."""
