# expect: limit
# policy: trusted
# neutralised: SafeFormatter checks the parsed spec before format(), not the size after it
# attack: in-process, str.format with a literal newline-fill spec and a sign flag: 100M characters,
#   under the per-call item cap that was checked only after formatting.
s = "{:\n>+100000000}".format(7)
print(len(s))
