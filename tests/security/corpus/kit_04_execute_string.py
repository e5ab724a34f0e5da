# expect: reject-at-compile
# attack: Kit's script executor: execute_string runs unrestricted Python.
import omni.kit.app
app = omni.kit.app.get_app()
app.get_python_scripting().execute_string("import os; os.system('touch /tmp/kitgate-corpus-canary/ESCAPED-kit_04')")
