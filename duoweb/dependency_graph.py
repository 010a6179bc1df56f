"""A route's ``Depends`` providers: planned into an ordered graph once, then called per request.

``plan_dependency_graph`` orders the providers a route needs (each cached provider once, a
cycle a registration error); ``call_provider_sync`` and ``call_provider_async`` run one of
them the way its kind needs, generator cleanup going on the caller's exit stack.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from duoweb._lazy import lazy_logger
from duoweb.concurrency import run_on_thread_loop
from duoweb.dependencies import Depends
from duoweb.errors import HTTPError
from duoweb.routing import RouteDefinitionError
from duoweb.signatures import SignaturePlan, describe, plan_signature

if TYPE_CHECKING:
    from types import TracebackType

    from duoweb.concurrency import ThreadPool

logger = lazy_logger("duoweb", globals())


class ProviderKind(enum.Enum):
    """How a provider produces its value."""

    #: A ``def`` returning the value.
    FUNCTION = "function"
    #: An ``async def`` returning the value.
    COROUTINE = "coroutine"
    #: A ``def`` yielding the value once; the code after ``yield`` is its cleanup.
    GENERATOR = "generator"
    #: An ``async def`` yielding the value once; the code after ``yield`` is its cleanup.
    ASYNCGEN = "asyncgen"


#: The kinds whose cleanup goes on an exit stack.
GENERATOR_KINDS = frozenset({ProviderKind.GENERATOR, ProviderKind.ASYNCGEN})


class DependencyNode(msgspec.Struct):
    """One provider call in a route's dependency tree, in the order they must run."""

    #: What identifies this call among the route's: the original provider (a fresh object
    #: for ``use_cache=False``, so that such a provider runs once per request per use).
    key: object
    #: What is called: the provider, or its override.
    provider: Callable[..., Any]
    plan: SignaturePlan
    kind: ProviderKind
    #: (parameter, key of the node whose value it gets): the provider's own dependencies.
    needs: list[tuple[str, object]]


def provider_kind(provider: Callable[..., Any]) -> ProviderKind:
    """How a provider produces its value."""
    if inspect.isasyncgenfunction(provider):
        return ProviderKind.ASYNCGEN
    if inspect.isgeneratorfunction(provider):
        return ProviderKind.GENERATOR
    if inspect.iscoroutinefunction(provider):
        return ProviderKind.COROUTINE
    return ProviderKind.FUNCTION


def plan_dependency_graph(
    named: list[tuple[str, Depends]],
    unnamed: tuple[Depends, ...],
    template_params: Mapping[str, Any],
    localns: Mapping[str, Any] | None,
    overrides: Mapping[Callable[..., Any], Callable[..., Any]],
) -> tuple[list[tuple[str, object]], list[DependencyNode]]:
    """The providers to run, in order, and where the ``named`` parameters find their values.

    ``unnamed`` (route and router dependencies) come first and feed no parameter; a provider
    asked for twice (with caching) is one node, run once.
    """
    nodes: dict[object, DependencyNode] = {}
    visiting: set[object] = set()

    def visit(depends: Depends) -> object:
        provider = overrides.get(depends.provider, depends.provider)
        key: object = depends.provider if depends.use_cache else object()
        if key in nodes:
            return key
        if key in visiting:
            raise RouteDefinitionError(f"dependency cycle through {describe(provider)}")
        visiting.add(key)
        plan = plan_signature(provider, template_params, localns)
        needs = [(name, visit(inner)) for name, inner in plan.dependencies]
        nodes[key] = DependencyNode(key, provider, plan, provider_kind(provider), needs)
        visiting.discard(key)
        return key

    for depends in unnamed:
        visit(depends)
    needs: list[tuple[str, object]] = [(name, visit(depends)) for name, depends in named]
    return needs, list(nodes.values())


def log_failure(provider: Callable[..., Any], exc: Exception) -> None:
    """Log a provider's failure, unless it is an ``HTTPError`` (an answer, not a fault)."""
    if not isinstance(exc, HTTPError):
        logger.error("dependency %s failed", describe(provider), exc_info=exc)


def call_provider_sync(
    node: DependencyNode, kwargs: dict[str, Any], stack: contextlib.ExitStack | None
) -> Any:
    """The value of ``node``'s provider called with ``kwargs``, on this thread.

    Coroutines run on the thread's own loop; a generator's cleanup is pushed on ``stack``.
    """
    try:
        kind = node.kind
        if kind is ProviderKind.FUNCTION:
            return node.provider(**kwargs)
        if kind is ProviderKind.COROUTINE:
            return run_on_thread_loop(node.provider(**kwargs))
        assert stack is not None  # generator providers always come with a stack
        if kind is ProviderKind.GENERATOR:
            return stack.enter_context(contextlib.contextmanager(node.provider)(**kwargs))
        manager = contextlib.asynccontextmanager(node.provider)(**kwargs)
        value = run_on_thread_loop(manager.__aenter__())

        def exit_manager(
            kind: type[BaseException] | None,
            error: BaseException | None,
            trace: TracebackType | None,
        ) -> bool | None:
            return run_on_thread_loop(manager.__aexit__(kind, error, trace))

        stack.push(exit_manager)
        return value
    except Exception as exc:
        log_failure(node.provider, exc)
        raise


async def call_provider_async(
    node: DependencyNode,
    kwargs: dict[str, Any],
    stack: contextlib.AsyncExitStack | None,
    pool: ThreadPool,
    inline: bool,
) -> Any:
    """The value of ``node``'s provider called with ``kwargs``, awaited on the loop.

    A ``def`` provider runs in ``pool`` unless the route is ``inline``; a generator's cleanup
    is pushed on ``stack``.
    """
    try:
        kind = node.kind
        if kind is ProviderKind.COROUTINE:
            return await node.provider(**kwargs)
        if kind is ProviderKind.FUNCTION:
            if inline:
                return node.provider(**kwargs)
            return await pool.run(node.provider, **kwargs)
        assert stack is not None  # generator providers always come with a stack
        if kind is ProviderKind.ASYNCGEN:
            manager = contextlib.asynccontextmanager(node.provider)(**kwargs)
            return await stack.enter_async_context(manager)
        sync_manager = contextlib.contextmanager(node.provider)(**kwargs)
        if inline:
            return stack.enter_context(sync_manager)
        value = await pool.run(sync_manager.__enter__)

        async def leave(*exc: Any) -> bool | None:
            return await pool.run(sync_manager.__exit__, *exc)

        stack.push_async_exit(leave)
        return value
    except Exception as exc:
        log_failure(node.provider, exc)
        raise
