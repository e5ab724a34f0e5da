# expect: limit
# policy: scene-edit
# attack: textwrap.indent with a long prefix on a million lines
import textwrap
out = textwrap.indent('x\n' * 1000000, 'y' * 900)
print('KGESC' + 'APE', len(out))
