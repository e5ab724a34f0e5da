# expect: reject-at-compile
# attack: mathematical bold letters NFKC-normalise to ASCII: `𝐨𝐩𝐞𝐧` becomes open.
print(𝐨𝐩𝐞𝐧("/tmp/kitgate-corpus-canary/secret.txt").read())
