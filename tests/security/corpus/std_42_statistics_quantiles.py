# expect: limit
# policy: scene-edit
# attack: statistics.quantiles(n=huge) loops in pure Python outside the ticks
import statistics
q = statistics.quantiles([1, 2, 3, 4], n=10**8)
print('KGESC' + 'APE', len(q))
