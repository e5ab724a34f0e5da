# expect: limit
# attack: f-string with a computed width allocates gigabytes inside one C call.
width = 10 ** 10
s = f"{'x':>{width}}"
print(len(s))
