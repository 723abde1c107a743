from .node import (
    Devnet as Devnet,
)
from .node import (
    start_devnet as start_devnet,
)
from .node import (
    stop_devnet as stop_devnet,
)
from .toolchain import find_anvil as find_anvil
from .toolchain import install_toolchain as install_toolchain
from .toolchain import toolchain_dir as toolchain_dir
