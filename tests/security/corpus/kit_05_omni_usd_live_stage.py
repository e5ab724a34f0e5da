# expect: reject-at-compile
# attack: omni.usd.get_context().get_stage() reaches the live Kit stage, bypassing the delta.
import omni.usd
live = omni.usd.get_context().get_stage()
live.RemovePrim("/World")
