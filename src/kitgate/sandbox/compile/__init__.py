"""Compile layer: a script's source becomes checked, rewritten code before anything runs.

Why a layer: every refusal a script can get without running is made here, and the compiler never
raises. source.py (decoding, identifiers, size and nesting), rules.py (syntax, names, imports per
policy), names.py (what a script may name), transformer.py (RestrictedPython plus our hooks),
compiler.py (the order of the steps and the cache: `compile_source`), hints.py (what to write instead).
"""
