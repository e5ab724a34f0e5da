"""Stand-in for Kit's `omni` namespace (tests only)."""
