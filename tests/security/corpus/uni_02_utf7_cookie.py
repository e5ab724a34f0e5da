# expect: reject-at-compile
# -*- coding: utf-7 -*-
# attack: `coding: utf-7` hides a newline (plus-AAo-minus) inside a comment.
x = 1  # comment +AAo-import os+AAo-os.system(+ACI-touch /tmp/kitgate-corpus-canary/ESCAPED-uni_02+ACI-)
