"""omni.kit.test discovers test classes in this module inside Kit ([[test]]); never imported elsewhere."""

from .test_in_kit import *  # noqa: F403
