"""Top-level screens (one per mode) and modal screens, one per file."""
