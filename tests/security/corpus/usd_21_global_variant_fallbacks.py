# expect: reject-at-runtime
# attack: Usd.Stage.SetGlobalVariantFallbacks changes process-wide state for every later stage.
from pxr import Usd
Usd.Stage.SetGlobalVariantFallbacks({"modelingVariant": ["Evil"]})
