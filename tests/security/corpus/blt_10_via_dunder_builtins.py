# expect: reject-at-compile
# attack: reach eval through the module-level __builtins__ mapping.
b = __builtins__
ev = b["eval"] if isinstance(b, dict) else b.eval
ev("__import__('os').system('touch /tmp/kitgate-corpus-canary/ESCAPED-blt_10')")
