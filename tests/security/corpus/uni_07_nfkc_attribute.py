# expect: reject-at-compile
# attack: fullwidth underscores in an attribute: `().＿＿class＿＿` normalises to __class__.
subs = ().＿＿class＿＿.＿＿base＿＿.＿＿subclasses＿＿()
print("KGESC" + "APE", subs)
