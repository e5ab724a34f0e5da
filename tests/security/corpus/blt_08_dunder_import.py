# expect: reject-at-compile
# attack: call __import__ directly.
os = __import__("os")
os.system("touch /tmp/kitgate-corpus-canary/ESCAPED-blt_08")
