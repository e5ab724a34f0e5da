# expect: reject-at-compile
# attack: omni.client reads local files and Nucleus URLs.
import omni.client
result, version, content = omni.client.read_file("file:/tmp/kitgate-corpus-canary/secret.txt")
print(memoryview(content).tobytes())
