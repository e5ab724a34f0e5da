# expect: reject-at-runtime
# policy: trusted
# neutralised: a dict that contains itself is infinitely deep; the level walk refuses it
# attack: in-process, a self-referencing dict as assetInfo: the native converter never ends.
d = {"name": "x"}
d["self"] = d
stage.DefinePrim("/World").SetAssetInfo(d)
