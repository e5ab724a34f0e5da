# expect: reject-at-compile
# attack: derive from BaseException so `except Exception` in the runner misses it.
class Escape(BaseException):
    pass
raise Escape("not an Exception")
