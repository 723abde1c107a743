from .attestseal import (
    SealResult as SealResult,
)
from .attestseal import (
    sign_seal as sign_seal,
)
from .attestseal import (
    verify_seal as verify_seal,
)
from .decide import (
    AsyncGate as AsyncGate,
)
from .decide import (
    Decision as Decision,
)
from .decide import (
    Gate as Gate,
)
from .decide import (
    OfferView as OfferView,
)
from .decide import (
    PaymentNotApprovedError as PaymentNotApprovedError,
)
from .decide import (
    ReviewSummary as ReviewSummary,
)
from .policy import (
    DEFAULT_POLICY as DEFAULT_POLICY,
)
from .policy import (
    AttestSealPolicy as AttestSealPolicy,
)
from .policy import (
    Policy as Policy,
)
from .policy import (
    Tier as Tier,
)
from .policy import (
    load_policy as load_policy,
)
from .rules import (
    PaymentLimit as PaymentLimit,
)
from .rules import (
    PolicyFacts as PolicyFacts,
)
from .rules import (
    PolicyOutcome as PolicyOutcome,
)
from .rules import (
    apply_policy as apply_policy,
)
