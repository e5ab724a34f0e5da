# expect: limit
# neutralised: __hash__/__str__ are allowed on script classes and run only inside the job, under its ticks
#   (the host never hashes or formats script objects), so the endless loop hits the step limit.
# attack: a custom exception class whose __str__ runs code when the host formats the error.
class Boom(Exception):
    def __str__(self):
        while True:
            pass
raise Boom()
