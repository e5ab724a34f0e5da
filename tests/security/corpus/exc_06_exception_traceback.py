# expect: reject-at-compile
# attack: exception __traceback__ leads to the runner's frames.
try:
    stage.GetPrimAtPath("/nope").GetAttribute("x").Get()
    raise ValueError("x")
except ValueError as exc:
    print("KGESC" + "APE", exc.__traceback__.tb_frame)
