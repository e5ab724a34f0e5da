# expect: reject-at-runtime
# attack: look for a public unwrap/real/wrapped handle on the guarded stage proxy
#   to get the unguarded Usd.Stage back.
real = stage.wrapped
print("KGESC" + "APE", real)
