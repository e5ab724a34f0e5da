# expect: reject-at-compile
# attack: __hash__ on a script class runs when the host puts the value in a set or dict.
class H:
    def __hash__(self):
        while True:
            pass
result = {H(): 1}
