"""Tests that only real Kit can run (`omni.kit.test`; command in docs/README.md, "First real run").

Why: everything else is tested against stand-ins. These check what stand-ins cannot: that the
extension loads, that Kit's own python3 starts the sandbox with Kit's `pxr`, and that an edit undone
through Kit's real undo stack restores the layer byte for byte. Any `[error]` log fails the run.
"""

import omni.kit.app
import omni.kit.commands
import omni.kit.test
import omni.kit.undo


class TestKitgateExecutorInKit(omni.kit.test.AsyncTestCaseFailOnLogError):
    async def test_commands_are_registered(self) -> None:
        self.assertIsNotNone(omni.kit.commands.get_command_class("ApplyKitgateDelta"))
        self.assertIsNotNone(omni.kit.commands.get_command_class("RecordKitgateTrustedJob"))

    async def test_sandbox_starts_with_kits_python_and_pxr(self) -> None:
        from kitgate.executor.extension import SandboxStarter, kit_python

        starter = SandboxStarter(kit_python())
        starter.start()
        app = omni.kit.app.get_app()
        for _ in range(3000):
            if starter.state != "starting":
                break
            await app.next_update_async()
        try:
            self.assertEqual(starter.state, "ready", starter.problem)
        finally:
            starter.close()

    async def test_undo_and_redo_restore_the_layer_byte_for_byte(self) -> None:
        from pxr import Sdf, Usd, UsdGeom

        from kitgate.sandbox.delta import Delta

        stage = Usd.Stage.CreateInMemory()
        UsdGeom.Xform.Define(stage, "/World")
        before = stage.GetRootLayer().ExportToString()
        child = Sdf.Layer.CreateAnonymous(".usda")
        child.ImportFromString(before)
        Sdf.CreatePrimInLayer(child, "/World/Cube").specifier = Sdf.SpecifierDef
        delta = Delta(child, copy=[Sdf.Path("/World/Cube")], order={Sdf.Path("/World"): ["Cube"]})
        ok, _ = omni.kit.commands.execute("ApplyKitgateDelta", delta=delta, stage=stage)
        self.assertTrue(ok)
        after = stage.GetRootLayer().ExportToString()
        omni.kit.undo.undo()
        self.assertEqual(stage.GetRootLayer().ExportToString(), before)
        omni.kit.undo.redo()
        self.assertEqual(stage.GetRootLayer().ExportToString(), after)
        omni.kit.undo.undo()
