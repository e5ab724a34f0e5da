# expect: reject-at-compile
# attack: ''.__class__.__base__.__subclasses__() enumerating every loaded class.
classes = "".__class__.__base__.__subclasses__()
print("KGESC" + "APE", len(classes))
