# expect: reject-at-compile
# attack: breakpoint()/help() start interactive pdb/pydoc on the worker's stdin.
help(stage)
breakpoint()
