# expect: reject-at-compile
# attack: import subprocess and read the canary secret through `cat`.
import subprocess
out = subprocess.run(["cat", "/tmp/kitgate-corpus-canary/secret.txt"], capture_output=True, text=True).stdout
print("KGESC" + "APE", out)
