# expect: reject-at-runtime
# policy: scene-edit
# neutralised: getcontext/setcontext/localcontext/Context are not in the vetted subset
# attack: raise the process-wide decimal precision so every later Decimal operation is huge
import decimal
decimal.getcontext().prec = 10**9
print('KGESC' + 'APE', decimal.Decimal(1) / 3)
