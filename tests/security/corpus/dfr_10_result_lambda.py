# expect: accept
# neutralised: callables in the result become {"type": ...} placeholders inside the child; the test checks
#   the callback never ran (stage unchanged, no output).
# attack: a callable result: the host would have to call or repr it, running script code unguarded.
result = {"callback": lambda: stage.DefinePrim("/LateLambda", "Xform") and print("KGESC" + "APE")}
