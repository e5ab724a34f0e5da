# expect: reject-at-compile
# attack: open() the canary secret outside the asset roots and print it.
print(open("/tmp/kitgate-corpus-canary/secret.txt").read())
