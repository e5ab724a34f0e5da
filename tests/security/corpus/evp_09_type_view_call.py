# expect: reject-at-runtime
# policy: scene-edit
# attack: type(stage) called as an unguarded Usd.Stage class
S = type(stage)
print('KGESC' + 'APE', S.Open('/tmp/kitgate-corpus-canary/tenant-b.usda'))
