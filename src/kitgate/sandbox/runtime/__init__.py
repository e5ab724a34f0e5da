"""Runtime layer: what guards a compiled script while it runs, inside the job's process.

Why a layer: every decision made on a live object lives here. hooks.py (the hooks the transformer
calls, `run_guarded`), guards.py and bounds.py (size and step budgets), proxies.py (what a script
holds instead of a module, a native callable or a pxr object), native.py (argument checks before C
code), assets.py and anchoring.py (asset paths), stdlib.py and numpy_surface.py (the vetted surfaces).
"""
