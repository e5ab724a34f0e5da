# expect: reject-at-runtime
# policy: scene-edit
# neutralised: decimal is importable (isolated only) but getcontext/setcontext/localcontext are not vetted names
# attack: decimal's thread-local context is shared with the host; fractions/decimal reach unbounded ints
import decimal
decimal.getcontext().prec = 10**9
print('KGESC' + 'APE', decimal.Decimal(1) / 3)
