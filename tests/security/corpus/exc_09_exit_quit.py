# expect: reject-at-compile
# attack: site builtins exit()/quit() close stdin and raise SystemExit.
exit(3)
quit()
