"""kitgate."""
