# expect: limit
# policy: scene-edit
# attack: json.dumps of a list that references one big list many times: one C call, gigabytes of text
import json
row = [123456789] * 1000
grid = [row] * 100000
text = json.dumps([grid] * 100)
print('KGESC' + 'APE', len(text))
