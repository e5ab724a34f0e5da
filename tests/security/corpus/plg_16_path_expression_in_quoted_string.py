# expect: reject-at-runtime
# attack: the ImportFromString nesting guard skipped quoted strings, but a `pathExpression` value is a
#   quoted string that the usda parser hands to the recursive path-expression parser: 50,000 nested
#   parentheses inside the quotes segfault the process that parses the text.
deep = "(" * 50000 + "/A" + ")" * 50000
text = '#usda 1.0\ndef "A"\n{\n    pathExpression e = "' + deep + '"\n}\n'
stage.GetRootLayer().ImportFromString(text)
