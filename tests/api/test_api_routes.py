"""The API's routers: their order in ``soundy.api.app`` (hot routes first) decides nothing."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute


def _routers() -> list[tuple[str, list[APIRoute]]]:
    """Each router the app includes, in its order, with its routes."""
    from soundy.api.app import create_app

    included = [r.original_router for r in create_app().routes if hasattr(r, "original_router")]
    return [
        (f"{index}: {router.routes[0].path}", [r for r in router.routes if isinstance(r, APIRoute)])
        for index, router in enumerate(included)
    ]


def test_no_route_of_one_router_answers_a_path_of_another():
    """app.py includes the routers with the hot ones first (GET /api/jobs/{id}, POST
    /api/audio/analyze), for speed: safe only while no route of one router matches a path
    that a route of another serves, whatever the method."""
    routers = _routers()
    assert routers[0][0] == "0: /api/jobs"  # the hot routers first
    assert sum(len(routes) for _, routes in routers) > 30  # every router was found
    for name, routes in routers:
        for route in routes:
            # The route's own path with a value in each parameter.
            path = re.sub(r"\{[^}:]+(:path)?\}", lambda m: "a/b" if m[1] else "x1", route.path)
            assert route.path_regex.match(path), (name, route.path)
            for other_name, others in routers:
                if other_name == name:
                    continue
                for other in others:
                    assert not other.path_regex.match(path), (route.path, other_name, other.path)


def test_routes_reading_the_token_themselves_still_declare_it():
    """GET /api/jobs/{id} and POST /api/audio/analyze read the bearer token with
    ``request_token``, not the ``bearer_token`` dependency (for speed); /openapi.json still
    gives them the same security requirement as every other route that needs a token."""
    from soundy.api.app import create_app

    paths = create_app().openapi()["paths"]
    bearer = [{"HTTPBearer": []}]
    assert paths["/api/jobs/{job_id}"]["get"]["security"] == bearer
    assert paths["/api/audio/analyze"]["post"]["security"] == bearer
    assert paths["/api/jobs"]["get"]["security"] == bearer  # by the dependency, as before
