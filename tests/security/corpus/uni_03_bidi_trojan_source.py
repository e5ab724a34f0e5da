# expect: reject-at-compile
# attack: Trojan Source: RLO/LRI bidi controls make an active line look like a comment to a reviewer.
access_level = "user"
if access_level != "user‮ ⁦# check if admin⁩ ⁦":
    print("KGESC" + "APE")
