"""Every domain's tables, gathered for migrations."""

from charter.audit import models as _audit  # noqa: F401
from charter.auth import models as _auth  # noqa: F401
from charter.db.base import Base
from charter.decisions import models as _decisions  # noqa: F401
from charter.delivery import models as _delivery  # noqa: F401
from charter.execution import corrections as _corrections  # noqa: F401
from charter.execution import models as _execution  # noqa: F401
from charter.ledger import models as _ledger  # noqa: F401
from charter.maillinks import models as _maillinks  # noqa: F401
from charter.policy import models as _policy  # noqa: F401
from charter.preferences import models as _preferences  # noqa: F401
from charter.requests import models as _requests  # noqa: F401
from charter.subjects import models as _subjects  # noqa: F401
from charter.suppression import models as _suppression  # noqa: F401

metadata = Base.metadata
