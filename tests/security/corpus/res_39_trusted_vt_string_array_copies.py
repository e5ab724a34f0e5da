# expect: limit
# policy: trusted
# attack: in-process, Vt.StringArray copies every element into a std::string: 3,000 references to one
#   1 MB string become 3 GB of native memory although the list has 3,000 items.
from pxr import Vt
s = "A" * 10 ** 6
a = Vt.StringArray([s] * 3000)
print(len(a))
