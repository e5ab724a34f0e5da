# expect: limit
# neutralised: __hash__/__str__ are allowed on script classes and run only inside the job, under its ticks
#   (the host never hashes or formats script objects), so the endless loop hits the step limit.
# attack: __hash__ on a script class runs when the host puts the value in a set or dict.
class H:
    def __hash__(self):
        while True:
            pass
result = {H(): 1}
