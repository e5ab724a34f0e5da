# expect: reject-at-runtime
# attack: monkeypatch random.Random so every later job's randomness is ours.
import random
random.Random.random = lambda self: 0.0
random.seed = None
