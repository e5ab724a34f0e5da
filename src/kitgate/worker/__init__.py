"""kitgate.worker: claims signed jobs from a controller, runs them in the sandbox, applies and reports them.

Why a package apart from the Kit extension: none of this needs Kit. The headless worker (`kitgate worker`)
and the Kit extension (extension/kitgate.executor, which keeps only the Kit binding) drive the same
runner. One job per module:

- `runner`: lifecycle (start, tick, stop) and the hand-off of a job from the network to the host thread;
- `handoff`: the one-slot hand-off and the status both threads read;
- `network`: keys, claims, heartbeats (network thread); `outbox`: result delivery;
- `execution`: one job on the host thread (sandbox, delta, result); `results`: the result, built once;
- `verify`: a claim response -> a verified job, or the reason it must not run;
- `state`: the on-disk journal; `transport`: stdlib HTTP; `snapshot`: a frozen layer for Kit;
- `headless`: the usd-core host; `packaging`: the Kit extension bundle; `config`: what a worker is told.

May import: kitgate.protocol, kitgate.sandbox, the stdlib (HTTP included), PyJWT. Never pydantic, FastAPI,
httpx or omni/carb: this package runs inside Kit.
"""
