# expect: accept
# policy: scene-edit
# neutralised: annotations are never evaluated: stripped at module/function level, kept as strings in
#   class bodies (what dataclasses reads); nothing prints.
# attack: a dataclass field annotation that would run code if evaluated; neutralised: annotations are kept as strings and never evaluated
from dataclasses import dataclass, fields
@dataclass
class A:
    x: print('KGESC' + 'APE') = 1
result = [fields(A)[0].type, A().x]
