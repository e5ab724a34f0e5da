# expect: reject-at-compile
# attack: raise GeneratorExit out of the script to escape an `except Exception` in the runner.
raise GeneratorExit("bye")
