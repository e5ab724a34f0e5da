"""Stand-in for omni.ext: IExt with on_startup(ext_id)/on_shutdown()."""


class IExt:
    def on_startup(self, ext_id: str) -> None:
        pass

    def on_shutdown(self) -> None:
        pass


def get_extension_name(ext_id: str) -> str:
    return ext_id.rsplit("-", 1)[0]
