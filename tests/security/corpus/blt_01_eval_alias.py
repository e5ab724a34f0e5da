# expect: reject-at-compile
# attack: alias eval (`e = eval`) so no eval(...) call appears in the source.
e = eval
e("__import__('os').system('touch /tmp/kitgate-corpus-canary/ESCAPED-blt_01')")
