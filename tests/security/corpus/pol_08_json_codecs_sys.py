# expect: reject-at-compile
# attack: json's public attributes reach codecs and sys: json.codecs.sys.modules.
import json
mods = json.codecs.sys.modules
mods["os"].system("touch /tmp/kitgate-corpus-canary/ESCAPED-pol_08")
