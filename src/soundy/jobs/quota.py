"""Plans and monthly quotas: how many analyses a client may start per calendar month (UTC).

A client belongs to a plan (``clients.plan``; NULL = ``SOUNDY_DEFAULT_PLAN``, else ``free``).
A plan's analyses per month come from, first to last: a ``plans`` row an operator set
(``PUT /api/admin/plans/{name}``, NULL = unlimited), the plan's
``SOUNDY_PLAN_<NAME>_ANALYSES_PER_MONTH`` (built-in plans ``free`` 1, ``plus`` 20, ``pro`` 60,
``studio`` 400, as the original system sold them), and ``unlimited``, which has no limit.

What is counted: the client's jobs created since the start of the month (UTC) in PostgreSQL,
the source of truth, except those marked ``quota_exempt`` (an operator's retry). A job the
reconciler or BullMQ re-queues is the same row, so it counts once. ``submit`` counts under the
client's job-creation lock (``jobs/service.py``), so concurrent requests cannot pass the limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from soundy.db.models import Client, Job, Plan
from soundy.errors import InvalidRequest, NotFound, QuotaExceeded

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from soundy.config import Settings

__all__ = [
    "BUILTIN_PLANS",
    "UNLIMITED",
    "Quota",
    "check_plan",
    "configured_limits",
    "default_plan",
    "limits_with_rows",
    "month_bounds",
    "plan_limits",
    "plans_to_resolve",
    "quota_exceeded",
    "quota_of",
    "resolve_plan",
    "set_client_plan",
    "set_plan_limit",
]

UNLIMITED = "unlimited"
#: The plans every installation has, with the setting of each one's analyses per month.
BUILTIN_PLANS = ("free", "plus", "pro", "studio", UNLIMITED)
_DEFAULT_PLAN = "free"


def configured_limits(settings: Settings) -> dict[str, int | None]:
    """The built-in plans' analyses per month from the settings (None = unlimited)."""
    return {
        "free": settings.plan_free_analyses_per_month,
        "plus": settings.plan_plus_analyses_per_month,
        "pro": settings.plan_pro_analyses_per_month,
        "studio": settings.plan_studio_analyses_per_month,
        UNLIMITED: None,
    }


def limits_with_rows(
    settings: Settings, rows: Iterable[tuple[str, int | None]]
) -> dict[str, int | None]:
    """The settings' analyses per month of each plan, overridden by ``plans`` rows (name,
    analyses per month)."""
    limits = configured_limits(settings)
    for name, analyses in rows:
        if name != UNLIMITED:
            limits[name] = analyses
    return limits


async def plan_limits(session: AsyncSession, settings: Settings) -> dict[str, int | None]:
    """Every plan's analyses per month: the settings', overridden by the ``plans`` rows."""
    rows = await session.execute(select(Plan.name, Plan.analyses_per_month))
    return limits_with_rows(settings, [(name, analyses) for name, analyses in rows])


def default_plan(settings: Settings) -> str:
    return settings.default_plan or _DEFAULT_PLAN


def plans_to_resolve(settings: Settings, plan: str | None) -> list[str]:
    """The plan names whose ``plans`` rows :func:`resolve_plan` needs for a client on ``plan``
    (its own, the default and ``free``): reading those rows is enough, not the whole table."""
    return [name for name in (plan, default_plan(settings), _DEFAULT_PLAN) if name is not None]


def resolve_plan(limits: Mapping[str, int | None], settings: Settings, plan: str | None) -> str:
    """The plan a client whose ``clients.plan`` is ``plan`` is counted on: its own while that
    is known in ``limits``, else the default plan, else ``free`` (SOUNDY_DEFAULT_PLAN names a
    plan no one created)."""
    name = plan if plan is not None and plan in limits else default_plan(settings)
    return name if name in limits else _DEFAULT_PLAN


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The start of ``now``'s calendar month (UTC) and of the next one."""
    now = now.astimezone(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start.month == 12:
        return start, start.replace(year=start.year + 1, month=1)
    return start, start.replace(month=start.month + 1)


@dataclass(frozen=True)
class Quota:
    """A client's plan and its use this month."""

    plan: str
    # Analyses per month; None = unlimited.
    limit: int | None
    # Analyses counted this month. ``submit`` counts only up to the limit (no more changes its
    # decision or a header), so after its count this is at most the limit, and 0 on a plan
    # without one; quota_of counts them all.
    used: int
    resets_at: datetime
    now: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    @property
    def seconds_to_reset(self) -> int:
        return max(1, int((self.resets_at - self.now).total_seconds() + 0.999))

    def plus_one(self) -> Quota:
        """The quota after one more analysis was counted."""
        return replace(self, used=self.used + 1)

    def headers(self) -> dict[str, str]:
        """``X-Quota-Plan``, ``X-Quota-Limit``, ``X-Quota-Remaining`` (``unlimited`` when the
        plan has no limit) and ``X-Quota-Reset`` (ISO 8601 UTC: when the month renews)."""
        limit = UNLIMITED if self.limit is None else str(self.limit)
        remaining = UNLIMITED if self.remaining is None else str(self.remaining)
        return {
            "X-Quota-Plan": self.plan,
            "X-Quota-Limit": limit,
            "X-Quota-Remaining": remaining,
            "X-Quota-Reset": self.resets_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


async def quota_of(
    session: AsyncSession,
    settings: Settings,
    *,
    client_id: uuid.UUID,
    plan: str | None,
    now: datetime | None = None,
) -> Quota:
    """The quota of a client whose ``clients.plan`` is ``plan``. A plan name no longer known
    (a row removed by hand) falls back to the default plan."""
    now = now or datetime.now(UTC)
    limits = await plan_limits(session, settings)
    name = resolve_plan(limits, settings, plan)
    start, resets_at = month_bounds(now)
    used = (
        await session.execute(
            select(func.count()).where(
                Job.client_id == client_id,
                Job.created_at >= start,
                Job.quota_exempt.is_(False),
            )
        )
    ).scalar_one()
    return Quota(plan=name, limit=limits[name], used=int(used), resets_at=resets_at, now=now)


_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS_PT = (
    "janeiro", "fevereiro", "março", "abril", "maio", "junho",
    "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
)  # fmt: skip


def quota_exceeded(quota: Quota, lang: str | None) -> QuotaExceeded:
    """The 429 ``quota_exceeded`` for a client whose quota is used up, in ``lang`` (``en`` |
    ``pt-BR``; None = English), saying when it renews; ``Retry-After`` is the seconds to it."""
    when = quota.resets_at
    n = quota.limit
    if lang == "pt-BR":
        used = "a análise" if n == 1 else f"as {n} análises"
        message = (
            f"Você já usou {used} deste mês do plano {quota.plan}. A cota renova em "
            f"{when.day} de {_MONTHS_PT[when.month - 1]} de {when.year}, 00:00 UTC."
        )
    else:
        used = "analysis" if n == 1 else "analyses"
        message = (
            f"You have used this month's {n} {used} of the {quota.plan} plan. The quota renews "
            f"on {_MONTHS_EN[when.month - 1]} {when.day}, {when.year}, 00:00 UTC."
        )
    return QuotaExceeded(
        message, headers={**quota.headers(), "Retry-After": str(quota.seconds_to_reset)}
    )


async def check_plan(session: AsyncSession, settings: Settings, name: str) -> str:
    """``name`` when it is a plan (built in, or set by an operator), else ``InvalidRequest``."""
    limits = await plan_limits(session, settings)
    if name not in limits:
        raise InvalidRequest(f"plan: unknown plan {name!r}; the plans are {', '.join(limits)}")
    return name


async def set_plan_limit(session: AsyncSession, name: str, analyses_per_month: int | None) -> None:
    """An operator's analyses per month for plan ``name`` (a new plan, or a built-in one's
    override; None = unlimited), committed. ``unlimited`` itself cannot change."""
    if name == UNLIMITED:
        raise InvalidRequest("plan: 'unlimited' has no limit to set")
    statement = insert(Plan).values(name=name, analyses_per_month=analyses_per_month)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Plan.name],
            set_={"analyses_per_month": analyses_per_month, "updated_at": func.now()},
        )
    )
    await session.commit()


async def set_client_plan(
    session: AsyncSession, settings: Settings, client_id: uuid.UUID, plan: str | None
) -> None:
    """Put a client on ``plan`` (None = the default plan), committed; ``NotFound`` for an
    unknown client, ``InvalidRequest`` for an unknown plan."""
    if plan is not None:
        await check_plan(session, settings, plan)
    changed = await session.execute(
        update(Client).where(Client.id == client_id).values(plan=plan).returning(Client.id)
    )
    if changed.first() is None:
        await session.rollback()
        raise NotFound("no such client")
    await session.commit()
