from .node import (
    Devnet as Devnet,
)
from .node import (
    start_devnet as start_devnet,
)
from .node import (
    stop_devnet as stop_devnet,
)
from .state import DevAccount as DevAccount
from .state import DevnetState as DevnetState
from .state import PublicDevnetState as PublicDevnetState
from .state import devnet_network as devnet_network
from .state import read_state as read_state
from .toolchain import find_anvil as find_anvil
from .toolchain import install_toolchain as install_toolchain
from .toolchain import toolchain_dir as toolchain_dir
