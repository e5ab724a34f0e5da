# expect: reject-at-runtime
# note: issue 13 made the import/builtin/dunder legal, so the guard now refuses this at run time.
# attack: the re module's public attributes chain to sys: re.enum.sys.modules['os'].
import re
os = re.enum.sys.modules["os"]
os.system("touch /tmp/kitgate-corpus-canary/ESCAPED-pol_07")
