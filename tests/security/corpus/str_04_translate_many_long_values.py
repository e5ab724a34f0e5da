# expect: limit
# policy: scene-edit
# neutralised: the size check counts each mapped character of the input, not just the longest value
# attack: many short-but-not-tiny values over a long, varied input add up to billions of characters
table = str.maketrans({chr(c): 'z' * 5000 for c in range(32, 127)})
text = ''.join(chr(32 + i % 95) for i in range(300000))
print('KGESC' + 'APE', len(text.translate(table)))
