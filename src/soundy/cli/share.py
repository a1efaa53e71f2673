"""``soundy share create | list | revoke``: read-only links to reports, from the command line.

The operator's side of ``POST /api/jobs/{id}/share`` and ``/api/albums/{id}/share``, against the
configured database as ``soundy keys`` is (``SOUNDY_DATABASE_URL``), for any client's job or
album: the same rules (:mod:`soundy.jobs.shares`), the same one live link per job or album, the
same tokens. The link goes to stdout under ``SOUNDY_PUBLIC_URL`` (only its path when that is
not set); what it is and how to end it goes to stderr, in ``--lang`` (en or pt-BR), and the
link opens the page in that language (``?lang=pt-BR``). See docs/operations.md.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from soundy.cli.services import _database_url, _fail, _settings, _with_session
from soundy.errors import SoundyError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from soundy.db.models import Share

share_app = typer.Typer(
    help="Read-only links to a job's or an album's report.", no_args_is_help=True
)

_LANG_HELP = "Language of the lines around the link, and of the page it opens: en or pt-BR."


def _check_lang(lang: str) -> str:
    if lang not in ("en", "pt-BR"):
        raise _fail(f"--lang must be en or pt-BR, not {lang!r}")
    return lang


def _link(base_url: str | None, row: Share, lang: str | None) -> str:
    from soundy.jobs.shares import link_url  # start-up path (soundy.cli.services' docstring)

    url = link_url(base_url, row)
    return url if lang in (None, "en") else f"{url}?lang={lang}"


async def _what(session: AsyncSession, row: Share, lang: str) -> str:
    """``job <id> (<file name>)`` or ``album <id> (<name>)``, in ``lang``."""
    # Start-up path (soundy.cli.services' docstring).
    from soundy.compare.messages import render
    from soundy.db.models import Album, Job

    if row.album_id is not None:
        album = await session.get(Album, row.album_id)
        name = album.name if album is not None and album.name else None
        return render(
            "share.cli.album",
            lang,
            id=row.album_id,
            name=name or render("share.cli.untitled", lang),
        )
    job = await session.get(Job, row.job_id)
    name = job.file_key.rsplit("/", 1)[-1] if job is not None else "?"
    return render("share.cli.job", lang, id=row.job_id, name=name)


@share_app.command("create")
def share_create(
    target: Annotated[
        str, typer.Argument(metavar="ID", help="The job's id, or the album's with --album.")
    ],
    album: Annotated[bool, typer.Option("--album", help="ID is an album's id.")] = False,
    lang: Annotated[str, typer.Option("--lang", help=_LANG_HELP)] = "en",
    json_output: Annotated[
        bool, typer.Option("--json", help="The link as the API gives it (one JSON object).")
    ] = False,
) -> None:
    """Make the read-only link to a completed job's report (or an album's), or print the live
    one: anyone who has it opens the report without a token."""
    # Start-up path (soundy.cli.services' docstring).
    import json
    import uuid

    from soundy.api.routes.shares import share_out
    from soundy.compare.messages import render
    from soundy.db.models import Album
    from soundy.jobs import shares, store

    lang = _check_lang(lang)
    kind = "album" if album else "job"
    try:
        key = uuid.UUID(target)
    except ValueError as exc:
        raise _fail(f"{target!r} is not a {kind} id") from exc
    database_url = _database_url("share create")
    base_url = _settings().public_url

    async def _create(session: AsyncSession) -> tuple[Share, bool, str]:
        if album:
            found_album = await session.get(Album, key)
            if found_album is None:
                raise _fail(f"no album {target}")
            row, created = await shares.share_album(session, found_album)
        else:
            job = await store.get_job(session, key)
            if job is None:
                raise _fail(f"no job {target}")
            row, created = await shares.share_job(session, job)
        return row, created, await _what(session, row, lang)

    try:
        row, created, what = _with_session(database_url, _create)
    except SoundyError as exc:  # e.g. the job is not completed
        raise _fail(exc.message) from exc
    if json_output:
        out = share_out(base_url, row)
        out.url = _link(base_url, row, lang)
        typer.echo(json.dumps(out.model_dump(mode="json")))
    else:
        typer.echo(_link(base_url, row, lang))
    key_text = "share.cli.created" if created else "share.cli.existing"
    print(
        render(key_text, lang, what=what, token=row.token, created=row.created_at.date()),
        file=sys.stderr,
    )
    if not base_url:
        print(render("share.cli.no_public_url", lang), file=sys.stderr)


@share_app.command("list")
def share_list(
    include_revoked: Annotated[
        bool, typer.Option("--all", help="Revoked links too (they no longer open).")
    ] = False,
    lang: Annotated[str, typer.Option("--lang", help=_LANG_HELP)] = "en",
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per link.")] = False,
) -> None:
    """List the share links, newest first: token, what it opens, made, revoked, the link."""
    # Start-up path (soundy.cli.services' docstring).
    import json

    from sqlalchemy import select

    from soundy.api.routes.shares import share_out
    from soundy.compare.messages import render
    from soundy.db.models import Share

    lang = _check_lang(lang)
    database_url = _database_url("share list")
    base_url = _settings().public_url

    async def _list(session: AsyncSession) -> list[tuple[Share, str]]:
        stmt = select(Share).order_by(Share.created_at.desc(), Share.id)
        if not include_revoked:
            stmt = stmt.where(Share.revoked_at.is_(None))
        rows = list((await session.execute(stmt)).scalars())
        return [(row, await _what(session, row, lang)) for row in rows]

    rows = _with_session(database_url, _list)
    if json_output:
        for row, _ in rows:
            document = share_out(base_url, row).model_dump(mode="json")
            document["revoked_at"] = row.revoked_at.isoformat() if row.revoked_at else None
            typer.echo(json.dumps(document))
        return
    if not rows:
        typer.echo(render("share.cli.none", lang))
        return
    token_h, what_h, created_h, revoked_h, link_h = render("share.cli.header", lang).split("|")
    typer.echo(f"{token_h:32}  {what_h:60}  {created_h:10}  {revoked_h:10}  {link_h}")
    for row, what in rows:
        revoked = row.revoked_at.date().isoformat() if row.revoked_at else "-"
        typer.echo(
            f"{row.token:32}  {what[:60]:60}  {row.created_at.date().isoformat():10}  "
            f"{revoked:10}  {_link(base_url, row, lang)}"
        )


@share_app.command("revoke")
def share_revoke(
    token: Annotated[
        str,
        typer.Argument(
            metavar="TOKEN", help="The link's token, or the whole link (soundy share list)."
        ),
    ],
    lang: Annotated[str, typer.Option("--lang", help=_LANG_HELP)] = "en",
) -> None:
    """Revoke a share link: it stops opening at once, for good (a new `create` makes a new one)."""
    # Start-up path (soundy.cli.services' docstring).
    from soundy.compare.messages import render
    from soundy.jobs.shares import revoke_token

    lang = _check_lang(lang)
    # A whole link pasted back: its last path part, without ?lang=.
    bare = token.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    database_url = _database_url("share revoke")

    async def _revoke(session: AsyncSession) -> str | None:
        row = await revoke_token(session, bare)
        return None if row is None else await _what(session, row, lang)

    what = _with_session(database_url, _revoke)
    if what is None:
        raise _fail(f"no live share link with the token {bare!r} (soundy share list shows them)")
    typer.echo(render("share.cli.revoked", lang, what=what))
