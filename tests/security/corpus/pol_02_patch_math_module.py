# expect: reject-at-runtime
# attack: write to an allowed module's attribute (math.pi), changing it for the host.
import math
math.pi = 3
