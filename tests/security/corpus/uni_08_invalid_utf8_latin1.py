# expect: reject-at-compile
# -*- coding: latin-1 -*-
# attack: latin-1 cookie with a raw non-UTF-8 byte: only UTF-8 source is accepted.
name = "café"
print(name)
