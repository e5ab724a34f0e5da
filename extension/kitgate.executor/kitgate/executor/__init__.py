"""kitgate.executor: the Kit extension binding (IExt, Kit stage host, status window).

The worker itself (runner, network, execution, journal, transport, headless worker) is `kitgate.worker`,
which needs no Kit; this package holds only what Kit needs. Kit imports the `[[python.module]]` named
`kitgate.executor` and instantiates every `omni.ext.IExt` subclass found at the top level of THIS
module, so the binding's class must be re-exported here. Outside Kit (tests, packaging) importing this
package must not import omni/carb; therefore the re-export is guarded: it only happens when `omni.ext`
is importable (inside Kit, or under the test stand-in). Nothing else runs at import time.
"""

try:  # inside Kit only
    import omni.ext as _omni_ext  # noqa: F401
except ImportError:  # headless worker, tests, packaging: no Kit binding
    pass
else:
    from .extension import KitgateExecutorExtension  # noqa: F401

    __all__ = ["KitgateExecutorExtension"]
