# expect: reject-at-compile
# attack: fullwidth `ｅｖａｌ` is NFKC-normalised to eval by the parser, after any text check.
ｅｖａｌ("__import__('os').system('touch /tmp/kitgate-corpus-canary/ESCAPED-uni_04')")
