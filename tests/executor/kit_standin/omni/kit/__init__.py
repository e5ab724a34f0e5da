"""Stand-in for `omni.kit` (tests only)."""
