# expect: reject-at-runtime
# attack: swallow the guard's refusal with a bare `except:` and keep trying other routes to write the
#   same file; the last route is not wrapped, so only the guard can stop the script.
for target in ("/tmp/kitgate-corpus-canary/ESCAPED-exc_12a.usda", "/tmp/kitgate-corpus-canary/ESCAPED-exc_12b.usda"):
    try:
        stage.GetRootLayer().Export(target)
    except:  # noqa: E722
        pass
stage.Export("/tmp/kitgate-corpus-canary/ESCAPED-exc_12c.usda")
print("KGESC" + "APE", "exported")
