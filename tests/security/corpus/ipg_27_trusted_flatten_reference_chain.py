# expect: reject-at-runtime
# policy: trusted
# neutralised: Stage.Flatten/ExportToString check the composed tree's depth first
# attack: in-process, chains of 999 prims, each leaf referencing the previous chain: every layer path
#   and every text nesting is under the limits, but the composed tree is chains x 999 deep and writing
#   it out recurses once per level (12 chains: SIGSEGV after 30 s and 4.3 GB; 5 here, to stay quick).
from pxr import Usd
parts = ["#usda 1.0\n"]
for c in range(5):
    ref = '(\n prepend references = </C' + str(c - 1) + '>\n)' if c else ""
    parts.append('over "C' + str(c) + '" {\n' + 'over "A" {\n' * 997 + 'over "A" ' + ref + ' {\n' + "}\n" * 999)
st = Usd.Stage.CreateInMemory()
st.GetRootLayer().ImportFromString("".join(parts))
flat = st.Flatten()
print(len(flat.ExportToString()))
