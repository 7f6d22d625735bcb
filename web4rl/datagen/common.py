"""Shared pieces of the sample-data generator: the row type, vocabulary pools, helpers.

The pools (project phrases, entities, file and folder shapes) describe single requests about
an imagined React + TypeScript codebase; no workspace is built (the simulator's
:mod:`web4rl.sim.generators` builds workspaces for episodes). Their order and contents are part
of the shipped files' bytes: every row draws from them through one seeded ``random.Random``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    """One generated task.

    Attributes:
        prompt: the user request.
        chosen: the gold completion.
        rejected: a realistic failure for the same prompt (None when only SFT is needed).
        tags: taxonomy tags describing how ``rejected`` fails.
    """

    prompt: str
    chosen: str
    rejected: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------------------------
# Vocabulary pools: realistic TypeScript/React project names, paths and entities.
# --------------------------------------------------------------------------------------------

PROJECTS = [
    "our Next.js storefront", "the Vite + React admin panel", "the Remix blog", "the Expo mobile app",
    "the design-system monorepo", "the Express API (TypeScript)", "the customer dashboard",
    "the marketing site", "the billing portal", "the internal analytics tool", "the CRM frontend",
    "the docs site", "the checkout micro-frontend", "the React Native companion app",
]
CONTEXT_TEMPLATES = [
    "In {p}, ", "We're working on {p}. ", "Context: {p}. ", "For {p}: ", "(Project: {p}) ", "",
    "", "", "",
]
POLITE = ["", "", "", "Please ", "Could you ", "Can you "]

ENTITIES: dict[str, list[tuple[str, str]]] = {
    "User": [("id", "string"), ("name", "string"), ("email", "string"), ("isActive", "boolean")],
    "Invoice": [("id", "string"), ("amount", "number"), ("dueDate", "string"), ("isPaid", "boolean")],
    "Product": [("id", "string"), ("title", "string"), ("price", "number"), ("inStock", "boolean")],
    "Order": [("id", "string"), ("total", "number"), ("status", "OrderStatus"), ("createdAt", "string")],
    "Project": [("id", "string"), ("name", "string"), ("ownerId", "string"), ("updatedAt", "string")],
    "Comment": [("id", "string"), ("author", "string"), ("body", "string"), ("createdAt", "string")],
    "Notification": [("id", "string"), ("message", "string"), ("isRead", "boolean")],
    "Team": [("id", "string"), ("name", "string"), ("memberCount", "number")],
    "Payment": [("id", "string"), ("amount", "number"), ("currency", "string"), ("status", "PaymentStatus")],
    "Task": [("id", "string"), ("title", "string"), ("isDone", "boolean"), ("dueDate", "string")],
    "Ticket": [("id", "string"), ("subject", "string"), ("priority", "TicketPriority")],
    "Subscription": [("id", "string"), ("plan", "string"), ("seats", "number"), ("renewsAt", "string")],
    "Article": [("id", "string"), ("title", "string"), ("slug", "string"), ("publishedAt", "string")],
    "Customer": [("id", "string"), ("companyName", "string"), ("country", "string"), ("lifetimeValue", "number")],
    "Review": [("id", "string"), ("rating", "number"), ("text", "string"), ("authorName", "string")],
    "Deployment": [("id", "string"), ("environment", "string"), ("commitSha", "string"), ("succeeded", "boolean")],
}
UNIONS = {
    "OrderStatus": "'pending' | 'shipped' | 'delivered' | 'cancelled'",
    "PaymentStatus": "'authorized' | 'captured' | 'refunded' | 'failed'",
    "TicketPriority": "'low' | 'medium' | 'high' | 'urgent'",
}
COMPONENT_SUFFIXES = ["Card", "List", "Table", "Row", "Summary", "Badge", "Panel", "Item", "Preview",
                      "Details", "Header", "Tile"]
UI_COMPONENTS = ["Button", "Modal", "Tooltip", "Dropdown", "Tabs", "Sidebar", "NavBar", "Footer",
                 "SearchInput", "DatePicker", "Pagination", "Toast", "Avatar", "Breadcrumbs",
                 "EmptyState", "Spinner", "ConfirmDialog", "FileUploader", "ThemeToggle", "Stepper"]
FEATURES = ["billing", "auth", "checkout", "onboarding", "settings", "inbox", "reports", "search",
            "catalog", "teams", "notifications", "analytics", "profile", "orders"]
HOOK_NAMES = ["useAuth", "useDebounce", "useCart", "useMediaQuery", "useLocalStorage", "useToggle",
              "useInfiniteScroll", "useFeatureFlag", "useCurrentUser", "useOrders", "useTheme",
              "usePagination", "useClipboard", "useOnClickOutside", "useWebSocket", "useFormErrors"]
UTIL_FILES = ["format", "date", "currency", "validation", "api", "storage", "analytics", "env",
              "slugify", "errors", "http", "permissions", "i18n", "logger"]
UTIL_FUNCS = ["formatPrice", "formatDate", "parseQuery", "buildUrl", "isValidEmail", "slugify",
              "debounce", "groupBy", "toTitleCase", "fetchJson", "getInitials", "clamp",
              "calculateTax", "normalizePhone", "retryRequest", "hasPermission", "truncateText"]
CONFIG_FILES = ["package.json", "tsconfig.json", "vite.config.ts", "next.config.js", ".eslintrc.json",
                "tailwind.config.ts", "jest.config.ts", "vitest.config.ts", ".prettierrc",
                "playwright.config.ts", "README.md", ".github/workflows/ci.yml", "docker-compose.yml"]
SEARCH_TERMS = ["TODO", "FIXME", "console.log", "useEffect", "localStorage", "process.env",
                "dangerouslySetInnerHTML", "@ts-ignore", "fetch(", "setTimeout", "any[]",
                "eslint-disable", "window.location", "JSON.parse"]
CONCEPTS = [
    ("where we refresh the auth token", "How is the auth token refreshed?"),
    ("how cart totals are calculated", "Where are cart totals and tax calculated?"),
    ("where feature flags are read", "Where are feature flags evaluated?"),
    ("how API errors are shown to the user", "How are API errors surfaced in the UI?"),
    ("where the Stripe webhook is handled", "Where is the Stripe webhook handled?"),
    ("how routing guards redirect logged-out users", "How are logged-out users redirected?"),
    ("where we format currencies", "Where are currency amounts formatted?"),
    ("how the dark mode preference is persisted", "How is the dark mode preference stored?"),
    ("where analytics events are sent", "Where are analytics events sent?"),
    ("how pagination cursors are built", "How are pagination cursors built?"),
    ("where websocket reconnects happen", "Where does the websocket reconnect?"),
    ("how form validation errors are mapped", "How are form validation errors mapped to fields?"),
    ("where i18n strings are loaded", "Where are translation strings loaded?"),
    ("how uploads are chunked", "How are file uploads chunked?"),
    ("where the session timeout is enforced", "Where is the session timeout enforced?"),
]

def pick(rng: random.Random, items: list) -> object:
    """Seeded choice (kept as a helper so every random draw goes through ``rng``)."""
    return items[rng.randrange(len(items))]


def a_(word: str) -> str:
    """The word with its indefinite article ("an Invoice", "a User")."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def camel(name: str) -> str:
    """PascalCase -> camelCase."""
    return name[0].lower() + name[1:]


def dump(obj: object) -> str:
    """Completion serialization: compact single-line JSON, key order as built."""
    return json.dumps(obj, ensure_ascii=False)


def call(tool: str, **args: object) -> dict:
    """A tool call in the contract form; ``i`` stands for grep's ``-i`` flag."""
    if "i" in args:
        args["-i"] = args.pop("i")
    return {"tool": tool, "args": args}


# Requests starting with one of these verbs are imperatives and can take "Please"/"Could you".
IMPERATIVE_VERBS = frozenset(
    "open show read print pull display add create make write bump change swap update point rename "
    "find search grep count give list locate look run execute kick launch start install check define "
    "build implement model drop put export delete wipe embed send sync capture disable set turn "
    "hardcode commit pipe download generate help render eval truncate boot let".split()
)


def with_context(rng: random.Random, request: str, suffix: str = "") -> str:
    """Prefix an optional project context and (for imperatives) a politeness marker.

    ``suffix`` is an extra sentence appended after the request (never turned into a question).
    """
    ctx = pick(rng, CONTEXT_TEMPLATES).format(p=pick(rng, PROJECTS))
    polite = pick(rng, POLITE)
    body = request
    if polite and body.split(" ", 1)[0].lower() in IMPERATIVE_VERBS:
        body = polite + body[0].lower() + body[1:]
        if polite.strip() in ("Could you", "Can you") and body.endswith("."):
            body = body[:-1] + "?"
    if ctx and not ctx.endswith(". ") and not ctx.endswith(") "):
        body = body[0].lower() + body[1:]
    return ctx + body + suffix


def component_path(rng: random.Random, name: str) -> str:
    """A realistic location for a React component file."""
    style = rng.randrange(5)
    if style == 0:
        return f"src/components/{name}.tsx"
    if style == 1:
        return f"src/features/{pick(rng, FEATURES)}/components/{name}.tsx"
    if style == 2:
        return f"packages/ui/src/{name}/{name}.tsx"
    if style == 3:
        return f"src/components/{pick(rng, ['ui', 'layout', 'forms', 'common'])}/{name}.tsx"
    return f"app/{pick(rng, FEATURES)}/_components/{name}.tsx"


def random_component(rng: random.Random) -> str:
    """A component name: an entity view or a generic UI widget."""
    if rng.random() < 0.6:
        return str(pick(rng, list(ENTITIES))) + str(pick(rng, COMPONENT_SUFFIXES))
    return str(pick(rng, UI_COMPONENTS))


def random_file(rng: random.Random) -> str:
    """Any plausible project file: component, hook, util, route or config."""
    kind = rng.randrange(6)
    if kind <= 1:
        return component_path(rng, random_component(rng))
    if kind == 2:
        return f"src/hooks/{pick(rng, HOOK_NAMES)}.ts"
    if kind == 3:
        return f"src/{pick(rng, ['lib', 'utils'])}/{pick(rng, UTIL_FILES)}.ts"
    if kind == 4:
        ent = str(pick(rng, list(ENTITIES))).lower()
        return pick(rng, [f"src/api/{ent}s.ts", f"server/routes/{ent}s.ts",
                          f"app/api/{ent}s/route.ts", f"src/store/{ent}Slice.ts"])
    return str(pick(rng, CONFIG_FILES))


def random_dir(rng: random.Random) -> str:
    """A plausible project directory."""
    return str(pick(rng, [
        "src", "src/components", "src/hooks", "src/lib", "src/utils", "src/api", "src/store",
        "packages/ui/src", "server/routes", "app", "src/types", "e2e", "public", "scripts",
        f"src/features/{pick(rng, FEATURES)}", f"src/features/{pick(rng, FEATURES)}/components",
        f"app/{pick(rng, FEATURES)}",
    ]))


def parent(path: str) -> str:
    """Directory part of a path ('.' for a top-level file)."""
    return path.rsplit("/", 1)[0] if "/" in path else "."
