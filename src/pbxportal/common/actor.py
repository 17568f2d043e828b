"""Who is acting: a partner user (session or API token) or vendor staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pbxportal.common.errors import Forbidden

if TYPE_CHECKING:
    from pbxportal.accounts.models import User


@dataclass(frozen=True)
class Actor:
    user: User
    via_token: bool = False

    @property
    def partner_id(self) -> int | None:
        return self.user.partner_id

    @property
    def own_partner_id(self) -> int:
        """The partner of a partner user; staff acting without a partner are refused."""
        if self.user.partner_id is None:
            raise Forbidden("This action is for a partner's users.")
        return int(self.user.partner_id)

    @property
    def is_partner(self) -> bool:
        return self.user.partner_id is not None

    @property
    def is_staff(self) -> bool:
        return bool(self.user.staff_role)

    @property
    def staff_role(self) -> str:
        return self.user.staff_role

    @property
    def partner_role(self) -> str:
        return self.user.partner_role

    def require_staff(self, *roles: str) -> None:
        """Staff only; with roles given, one of them (vendor_admin always passes)."""
        if not self.is_staff:
            raise Forbidden("This action is for vendor staff.")
        if roles and self.staff_role not in roles and self.staff_role != "vendor_admin":
            raise Forbidden(f"This action needs the staff role {' or '.join(roles)}.")

    def require_partner_role(self, *roles: str) -> None:
        """Partner users with one of the roles (admin always passes); staff pass too."""
        if self.is_staff:
            return
        if self.partner_role != "admin" and self.partner_role not in roles:
            raise Forbidden(f"This action needs the partner role {' or '.join(('admin', *roles))}.")
