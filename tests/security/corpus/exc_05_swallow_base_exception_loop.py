# expect: limit
# attack: a bare `except:` inside an endless loop swallows whatever the sandbox raises to stop
#   the script (deadline, step limit, KeyboardInterrupt), so only an outer kill can end it.
while True:
    try:
        while True:
            pass
    except:  # noqa: E722
        pass
