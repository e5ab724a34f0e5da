"""Stand-in package omni.kit.viewport (only `utility` is used by the binding)."""
