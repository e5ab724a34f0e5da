# expect: reject-at-compile
# attack: bare CR line endings hide a second statement from line-based review tools.
# harmless headerimport osos.system("touch /tmp/kitgate-corpus-canary/ESCAPED-uni_10")
