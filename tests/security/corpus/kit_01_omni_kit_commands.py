# expect: reject-at-compile
# attack: omni.kit.commands.execute runs arbitrary registered commands in Kit.
import omni.kit.commands
omni.kit.commands.execute("DeletePrims", paths=["/World"])
