# expect: limit
# policy: trusted
# attack: in-process there is no rlimit around the job: 'A' * 10**10 must be stopped by the
#   allocation guard before CPython tries to allocate 10 GB inside the host.
s = "A" * 10 ** 10
