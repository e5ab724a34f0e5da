# expect: reject-at-compile
# attack: compile() a code object and run it through a function's code.
code = compile("import os\nos.system('touch /tmp/kitgate-corpus-canary/ESCAPED-blt_03')", "x", "exec")
print("KGESC" + "APE", code)
