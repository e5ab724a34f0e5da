# expect: reject-at-compile
# attack: the extension manager can enable arbitrary extensions (code execution).
from omni.kit.app import get_app
get_app().get_extension_manager().set_extension_enabled_immediate("omni.kit.window.script_editor", True)
