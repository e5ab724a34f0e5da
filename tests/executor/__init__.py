"""Tests for kitgate.executor (runner, headless worker, Kit binding against stand-ins)."""
