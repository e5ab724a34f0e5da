# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: json's public attributes reach codecs and sys: json.codecs.sys.modules.
import json
mods = json.codecs.sys.modules
mods["os"].system("touch /tmp/kitgate-corpus-canary/ESCAPED-pol_08")
