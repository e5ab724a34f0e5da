# expect: reject-at-compile
# policy: scene-edit
# attack: __del__ remains refused although other dunders are allowed
class Late:
    def __del__(self):
        print('KGESC' + 'APE')
keep = Late()
