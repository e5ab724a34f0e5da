# expect: reject-at-runtime
# attack: alias the bound format method first, call it later (the call site shows no `.format`).
template = "{0.__init__.__globals__}"
render = template.format
print("KGESC" + "APE", render(stage))
