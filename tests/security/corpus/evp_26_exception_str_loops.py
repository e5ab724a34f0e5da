# expect: limit
# policy: scene-edit
# attack: an exception whose __str__ never returns, formatted when the error is reported
class Boom(Exception):
    def __str__(self):
        while True:
            pass
raise Boom('KGESC' + 'APE')
