# expect: reject-at-runtime
# policy: scene-edit
# attack: as_strided reads arbitrary memory around an array (strides past the buffer)
import numpy as np
st = np.lib.stride_tricks
leak = st.as_strided(np.zeros(1), shape=(10**6,), strides=(8,))
print('KGESC' + 'APE', leak[:100])
