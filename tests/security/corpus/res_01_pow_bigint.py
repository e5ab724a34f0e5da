# expect: limit
# attack: 10**(10**9): one C call that never returns to the interpreter.
x = 10 ** (10 ** 9)
