# expect: limit
# policy: trusted
# neutralised: bounds.parse_format_spec reads the fill as any character (a regex `.` skipped a newline)
# attack: in-process, format() with a newline fill character hid a 300M-character width from the regex.
s = format("x", "\n>300000000")
print(len(s))
