# expect: reject-at-compile
# policy: scene-edit
# attack: decimal's thread-local context is shared with the host; fractions/decimal reach unbounded ints
import decimal
decimal.getcontext().prec = 10**9
print('KGESC' + 'APE', decimal.Decimal(1) / 3)
