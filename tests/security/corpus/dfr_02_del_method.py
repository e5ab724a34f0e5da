# expect: reject-at-compile
# attack: __del__ on a script class runs at garbage collection, after the job.
class Late:
    def __del__(self):
        print("KGESC" + "APE")
keep = Late()
