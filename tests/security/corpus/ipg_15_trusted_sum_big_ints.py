# expect: limit
# policy: trusted
# neutralised: sum() of ints bounds (count x largest bit length)
# attack: in-process, one sum() call re-adding a 900k-bit total a million times.
big = 2 ** 900000
print(sum([big] * 1000000).bit_length())
