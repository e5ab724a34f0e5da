# expect: reject-at-compile
# attack: carb.tokens / carb.log reveal paths and secrets from the Kit process.
import carb.tokens
print("KGESC" + "APE", carb.tokens.get_tokens_interface().resolve("${data}"))
