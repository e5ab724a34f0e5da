# expect: reject-at-compile
# attack: zero-width joiner inside an identifier to dodge a name deny-list.
o‍pen = 1
print(o‍pen)
