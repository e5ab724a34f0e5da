# expect: reject-at-compile
# attack: carb.settings rewrites the Kit app's settings (e.g. disable the extension).
import carb.settings
carb.settings.get_settings().set("/exts/kitgate.executor/enabled", False)
