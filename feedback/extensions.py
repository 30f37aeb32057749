"""The Flask extensions, created unbound here and bound to the app in `create_app`."""

from typing import TYPE_CHECKING

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from feedback.database import Base

db = SQLAlchemy(model_class=Base)
# The models' base class. Flask-SQLAlchemy builds `db.Model` at run time from `Base`, which type checkers
# cannot follow: they are shown `Base` itself, whose typed mappings are what the models use.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Storage comes from RATELIMIT_STORAGE_URI (memory:// by default, redis://… with several workers).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
