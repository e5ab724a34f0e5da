# expect: limit
# policy: trusted
# attack: in-process infinite Python loop that swallows exceptions; only deadline checks can stop it.
n = 0
while True:
    try:
        n = n + 1
    except Exception:
        pass
