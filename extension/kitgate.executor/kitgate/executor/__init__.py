"""kitgate.executor: the worker runner (headless and Kit) and the Kit extension binding.

Kit imports the `[[python.module]]` named `kitgate.executor` and instantiates every `omni.ext.IExt`
subclass found at the top level of THIS module (facts §1.4, §2), so the binding's class must be
re-exported here. The headless worker imports `kitgate.executor.runner` without Kit, which imports
this file too; therefore the re-export is guarded: it only happens when `omni.ext` is importable
(i.e. inside Kit, or under the test stand-in). No omni/carb import happens otherwise, and nothing
else runs at import time.
"""

try:  # inside Kit only
    import omni.ext as _omni_ext  # noqa: F401
except ImportError:  # headless worker, tests, packaging: no Kit binding
    pass
else:
    from .extension import KitgateExecutorExtension  # noqa: F401

    __all__ = ["KitgateExecutorExtension"]
