# expect: reject-at-compile
# -*- coding: unicode_escape -*-
# attack: `coding: unicode_escape` turns a backslash-u-000a escape inside a comment into a newline: the parser sees
#   `import os` where a text scanner sees a comment.
x = 1  # harmless comment\u000aimport os\u000aos.system("touch /tmp/kitgate-corpus-canary/ESCAPED-uni_01")
