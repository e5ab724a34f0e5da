"""Tests for kitgate.protocol (the wire contract shared by controller, worker, client and sandbox)."""
