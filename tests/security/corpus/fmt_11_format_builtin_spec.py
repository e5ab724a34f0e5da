# expect: reject-at-runtime
# attack: format() with a user-controlled spec on a str subclass whose format traversal is attempted via Formatter in vformat.
tmpl = "{x.__class__}"
print("KGESC" + "APE", tmpl.format(x=stage.GetPseudoRoot()))
