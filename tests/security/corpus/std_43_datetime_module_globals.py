# expect: reject-at-runtime
# policy: scene-edit
# attack: datetime's module globals (sys, time) through the proxy
import datetime
print('KGESC' + 'APE', datetime.sys)
