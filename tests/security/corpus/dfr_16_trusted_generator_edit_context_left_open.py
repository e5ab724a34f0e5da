# expect: accept
# policy: trusted
# neutralised: suspended generators are closed at the end of the job (the EditContext exits) and the
#   edit target the job started with is restored; tests/sandbox/test_executor_inprocess.py checks the
#   host stage afterwards with the garbage collector disabled.
# attack: in-process, a generator suspended inside `with Usd.EditContext(stage, session_layer):` keeps
#   the host stage's edit target on the session layer after the job: an operator's later edits in Kit
#   land in a layer that is never saved.
from pxr import Usd
def hold(box):
    with Usd.EditContext(stage, stage.GetSessionLayer()):
        yield 1
box = []
gen = hold(box)
box.append(gen)
next(gen)
stage.SetEditTarget(stage.GetSessionLayer())
