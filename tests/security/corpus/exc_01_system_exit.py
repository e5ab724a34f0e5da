# expect: reject-at-compile
# attack: raise SystemExit to kill the worker process (or skip the result reporting).
raise SystemExit(0)
