# expect: reject-at-compile
# attack: a custom exception class whose __str__ runs code when the host formats the error.
class Boom(Exception):
    def __str__(self):
        while True:
            pass
raise Boom()
