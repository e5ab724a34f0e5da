# expect: reject-at-compile
# attack: fullwidth low line: `＿＿import＿＿` becomes __import__.
m = ＿＿import＿＿("os")
m.system("touch /tmp/kitgate-corpus-canary/ESCAPED-uni_05")
